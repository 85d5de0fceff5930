-- CreateEnum
CREATE TYPE "rating_status" AS ENUM ('unrated', 'rated', 'unrateable');

-- CreateEnum
CREATE TYPE "billing_profile_kind" AS ENUM ('sell', 'cost');

-- AlterTable
ALTER TABLE "cdrs" ADD COLUMN     "carrier_cost" DECIMAL(18,6),
ADD COLUMN     "carrier_currency" VARCHAR(3),
ADD COLUMN     "carrier_zone" TEXT,
ADD COLUMN     "customer_currency" VARCHAR(3),
ADD COLUMN     "customer_price" DECIMAL(18,6),
ADD COLUMN     "customer_zone" TEXT,
ADD COLUMN     "rated_at" TIMESTAMPTZ(3),
ADD COLUMN     "rated_number" TEXT,
ADD COLUMN     "rating_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "rating_error" TEXT,
ADD COLUMN     "rating_status" "rating_status" NOT NULL DEFAULT 'unrated',
ADD COLUMN     "reseller_currency" VARCHAR(3),
ADD COLUMN     "reseller_price" DECIMAL(18,6),
ADD COLUMN     "reseller_zone" TEXT;

-- AlterTable
ALTER TABLE "customers" ADD COLUMN     "billing_profile_id" UUID;

-- AlterTable
ALTER TABLE "peering_groups" ADD COLUMN     "cost_profile_id" UUID;

-- AlterTable
ALTER TABLE "resellers" ADD COLUMN     "billing_profile_id" UUID;

-- CreateTable
CREATE TABLE "billing_profiles" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "billing_profile_kind" NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "billing_profiles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "billing_peak_times" (
    "id" UUID NOT NULL,
    "profile_id" UUID NOT NULL,
    "weekday" INTEGER,
    "start_minute" INTEGER NOT NULL,
    "end_minute" INTEGER NOT NULL,

    CONSTRAINT "billing_peak_times_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_decks" (
    "id" UUID NOT NULL,
    "profile_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "effective_from" TIMESTAMPTZ(3) NOT NULL,
    "name" TEXT,
    "row_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rate_decks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rates" (
    "deck_id" UUID NOT NULL,
    "prefix" TEXT NOT NULL,
    "zone" TEXT NOT NULL,
    "setup_fee" DECIMAL(18,6) NOT NULL DEFAULT 0,
    "peak_rate" DECIMAL(18,6) NOT NULL,
    "off_peak_rate" DECIMAL(18,6) NOT NULL,
    "first_interval" INTEGER NOT NULL DEFAULT 60,
    "next_interval" INTEGER NOT NULL DEFAULT 60,
    "effective_from" TIMESTAMPTZ(3),
    "effective_to" TIMESTAMPTZ(3),

    CONSTRAINT "rates_pkey" PRIMARY KEY ("deck_id","prefix")
);

-- CreateIndex
CREATE UNIQUE INDEX "billing_profiles_name_key" ON "billing_profiles"("name");

-- CreateIndex
CREATE INDEX "billing_peak_times_profile_id_idx" ON "billing_peak_times"("profile_id");

-- CreateIndex
CREATE INDEX "rate_decks_profile_id_effective_from_idx" ON "rate_decks"("profile_id", "effective_from");

-- CreateIndex
CREATE UNIQUE INDEX "rate_decks_profile_id_version_key" ON "rate_decks"("profile_id", "version");

-- CreateIndex
CREATE INDEX "cdrs_unrated" ON "cdrs"("id") WHERE (rating_status = 'unrated');

-- CreateIndex
CREATE INDEX "customers_billing_profile_id_idx" ON "customers"("billing_profile_id");

-- CreateIndex
CREATE INDEX "peering_groups_cost_profile_id_idx" ON "peering_groups"("cost_profile_id");

-- CreateIndex
CREATE INDEX "resellers_billing_profile_id_idx" ON "resellers"("billing_profile_id");

-- AddForeignKey
ALTER TABLE "resellers" ADD CONSTRAINT "resellers_billing_profile_id_fkey" FOREIGN KEY ("billing_profile_id") REFERENCES "billing_profiles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customers" ADD CONSTRAINT "customers_billing_profile_id_fkey" FOREIGN KEY ("billing_profile_id") REFERENCES "billing_profiles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "peering_groups" ADD CONSTRAINT "peering_groups_cost_profile_id_fkey" FOREIGN KEY ("cost_profile_id") REFERENCES "billing_profiles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "billing_peak_times" ADD CONSTRAINT "billing_peak_times_profile_id_fkey" FOREIGN KEY ("profile_id") REFERENCES "billing_profiles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rate_decks" ADD CONSTRAINT "rate_decks_profile_id_fkey" FOREIGN KEY ("profile_id") REFERENCES "billing_profiles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rates" ADD CONSTRAINT "rates_deck_id_fkey" FOREIGN KEY ("deck_id") REFERENCES "rate_decks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
