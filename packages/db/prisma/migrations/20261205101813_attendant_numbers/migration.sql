-- AlterTable
ALTER TABLE "numbers" ADD COLUMN     "auto_attendant_id" UUID;

-- CreateIndex
CREATE INDEX "numbers_auto_attendant_id_idx" ON "numbers"("auto_attendant_id");

-- AddForeignKey
ALTER TABLE "numbers" ADD CONSTRAINT "numbers_auto_attendant_id_fkey" FOREIGN KEY ("auto_attendant_id") REFERENCES "auto_attendants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A number rings exactly one subscriber, one hunt group or one auto-attendant; only a subscriber's is primary.
ALTER TABLE "numbers" DROP CONSTRAINT "numbers_one_target";
ALTER TABLE "numbers" ADD CONSTRAINT "numbers_one_target" CHECK (
  num_nonnulls("subscriber_id", "hunt_group_id", "auto_attendant_id") = 1
);
ALTER TABLE "numbers" ADD CONSTRAINT "numbers_attendant_not_primary" CHECK ("auto_attendant_id" IS NULL OR NOT "is_primary");
