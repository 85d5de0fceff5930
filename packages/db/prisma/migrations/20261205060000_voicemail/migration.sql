-- AlterEnum
ALTER TYPE "call_forward_destination_kind" ADD VALUE 'voicemail';

-- AlterEnum
ALTER TYPE "hunt_destination_kind" ADD VALUE 'voicemail';

-- CreateTable
CREATE TABLE "voicemail_boxes" (
    "subscriber_id" UUID NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "pin_hash" TEXT,
    "greeting" TEXT,
    "max_message_seconds" INTEGER NOT NULL DEFAULT 120,
    "max_messages" INTEGER NOT NULL DEFAULT 100,
    "email" TEXT,
    "delete_after_email" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "voicemail_boxes_pkey" PRIMARY KEY ("subscriber_id")
);

-- CreateTable
CREATE TABLE "voicemail_messages" (
    "id" UUID NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "caller" TEXT NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "file" TEXT NOT NULL,
    "heard" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "voicemail_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "voicemail_messages_subscriber_id_created_at_idx" ON "voicemail_messages"("subscriber_id", "created_at");

-- CreateIndex
CREATE INDEX "voicemail_messages_customer_id_created_at_idx" ON "voicemail_messages"("customer_id", "created_at");

-- AddForeignKey
ALTER TABLE "voicemail_boxes" ADD CONSTRAINT "voicemail_boxes_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "voicemail_messages" ADD CONSTRAINT "voicemail_messages_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Change notifications for message waiting indication: the id sent is the box's subscriber (a deleted
-- message's own id would not say whose box changed).
CREATE FUNCTION "switchboard_notify_voicemail"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', 'delete', 'id', OLD."subscriber_id")::text);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP), 'id', NEW."subscriber_id")::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER "voicemail_messages_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "voicemail_messages" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_voicemail"();
