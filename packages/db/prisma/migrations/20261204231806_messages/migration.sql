-- CreateEnum
CREATE TYPE "message_status" AS ENUM ('queued', 'delivered', 'failed');

-- CreateTable
CREATE TABLE "messages" (
    "id" UUID NOT NULL,
    "call_id" TEXT NOT NULL,
    "sender_subscriber_id" UUID,
    "sender_customer_id" UUID,
    "recipient_subscriber_id" UUID,
    "recipient_customer_id" UUID,
    "from_uri" TEXT NOT NULL,
    "to_uri" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" "message_status" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "messages_recipient_subscriber_id_status_created_at_idx" ON "messages"("recipient_subscriber_id", "status", "created_at");

-- CreateIndex
CREATE INDEX "messages_sender_subscriber_id_created_at_idx" ON "messages"("sender_subscriber_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_sender_customer_id_created_at_idx" ON "messages"("sender_customer_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_recipient_customer_id_created_at_idx" ON "messages"("recipient_customer_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_created_at_idx" ON "messages"("created_at");

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_sender_subscriber_id_fkey" FOREIGN KEY ("sender_subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_recipient_subscriber_id_fkey" FOREIGN KEY ("recipient_subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_sender_customer_id_fkey" FOREIGN KEY ("sender_customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_recipient_customer_id_fkey" FOREIGN KEY ("recipient_customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;
