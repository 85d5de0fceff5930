-- CreateEnum
CREATE TYPE "push_provider" AS ENUM ('apns', 'fcm');

-- AlterTable
ALTER TABLE "registrations" ADD COLUMN     "pn_refresh" INTEGER,
ADD COLUMN     "push_last_at" TIMESTAMPTZ(3),
ADD COLUMN     "push_last_result" TEXT;

-- CreateTable
CREATE TABLE "push_credentials" (
    "id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "provider" "push_provider" NOT NULL,
    "settings" JSONB NOT NULL,
    "sealed_secret" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "push_credentials_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "push_credentials_domain_id_provider_key" ON "push_credentials"("domain_id", "provider");

-- AddForeignKey
ALTER TABLE "push_credentials" ADD CONSTRAINT "push_credentials_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE CASCADE ON UPDATE CASCADE;
