-- AlterTable
ALTER TABLE "cdrs" ADD COLUMN     "billed_customer_id" UUID,
ADD COLUMN     "billed_subscriber_id" UUID;

-- CreateIndex
CREATE INDEX "cdrs_billed_customer_id_started_at_idx" ON "cdrs"("billed_customer_id", "started_at");

-- AddForeignKey
ALTER TABLE "cdrs" ADD CONSTRAINT "cdrs_billed_subscriber_id_fkey" FOREIGN KEY ("billed_subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cdrs" ADD CONSTRAINT "cdrs_billed_customer_id_fkey" FOREIGN KEY ("billed_customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;
