-- CreateEnum
CREATE TYPE "recording_mode" AS ENUM ('off', 'always', 'on_demand');

-- AlterTable
ALTER TABLE "customers" ADD COLUMN     "recording_announcement" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "recording_mode" "recording_mode" NOT NULL DEFAULT 'off',
ADD COLUMN     "recording_retention_days" INTEGER,
ADD COLUMN     "recording_webhook_secret_sealed" TEXT,
ADD COLUMN     "recording_webhook_url" TEXT;

-- AlterTable
ALTER TABLE "numbers" ADD COLUMN     "hunt_group_id" UUID,
ALTER COLUMN "subscriber_id" DROP NOT NULL;

-- AlterTable
ALTER TABLE "subscribers" ADD COLUMN     "recording_mode" "recording_mode";

-- CreateTable
CREATE TABLE "call_recordings" (
    "id" UUID NOT NULL,
    "cdr_id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "subscriber_id" UUID,
    "file_path" TEXT NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "call_recordings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "call_recordings_customer_id_created_at_idx" ON "call_recordings"("customer_id", "created_at");

-- CreateIndex
CREATE INDEX "call_recordings_cdr_id_idx" ON "call_recordings"("cdr_id");

-- CreateIndex
CREATE INDEX "call_recordings_created_at_idx" ON "call_recordings"("created_at");

-- CreateIndex
CREATE INDEX "numbers_hunt_group_id_idx" ON "numbers"("hunt_group_id");

-- AddForeignKey
ALTER TABLE "numbers" ADD CONSTRAINT "numbers_hunt_group_id_fkey" FOREIGN KEY ("hunt_group_id") REFERENCES "hunt_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "call_recordings" ADD CONSTRAINT "call_recordings_cdr_id_fkey" FOREIGN KEY ("cdr_id") REFERENCES "cdrs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "call_recordings" ADD CONSTRAINT "call_recordings_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "call_recordings" ADD CONSTRAINT "call_recordings_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- A number rings exactly one subscriber or one hunt group; a group's number is never a primary number.
ALTER TABLE "numbers" ADD CONSTRAINT "numbers_one_target" CHECK (("subscriber_id" IS NULL) <> ("hunt_group_id" IS NULL));
ALTER TABLE "numbers" ADD CONSTRAINT "numbers_group_not_primary" CHECK ("hunt_group_id" IS NULL OR NOT "is_primary");
