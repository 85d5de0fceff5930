-- CreateEnum
CREATE TYPE "attendant_destination_kind" AS ENUM ('subscriber', 'hunt_group', 'voicemail', 'number');

-- CreateTable
CREATE TABLE "auto_attendants" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "greeting_text" TEXT NOT NULL,
    "greeting_file" TEXT,
    "digit_timeout" INTEGER NOT NULL DEFAULT 5,
    "max_replays" INTEGER NOT NULL DEFAULT 2,
    "timeout_kind" "attendant_destination_kind",
    "timeout_target" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "auto_attendants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "auto_attendant_options" (
    "id" UUID NOT NULL,
    "auto_attendant_id" UUID NOT NULL,
    "digit" TEXT NOT NULL,
    "kind" "attendant_destination_kind" NOT NULL,
    "target" TEXT NOT NULL,

    CONSTRAINT "auto_attendant_options_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "auto_attendants_customer_id_idx" ON "auto_attendants"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "auto_attendants_domain_id_username_key" ON "auto_attendants"("domain_id", "username");

-- CreateIndex
CREATE UNIQUE INDEX "auto_attendant_options_auto_attendant_id_digit_key" ON "auto_attendant_options"("auto_attendant_id", "digit");

-- AddForeignKey
ALTER TABLE "auto_attendants" ADD CONSTRAINT "auto_attendants_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auto_attendants" ADD CONSTRAINT "auto_attendants_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auto_attendant_options" ADD CONSTRAINT "auto_attendant_options_auto_attendant_id_fkey" FOREIGN KEY ("auto_attendant_id") REFERENCES "auto_attendants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Change notifications (see 20261126061500_change_notifications): sip-core holds the attendants in memory.
CREATE TRIGGER "auto_attendants_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "auto_attendants" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "auto_attendants_notify_truncate" AFTER TRUNCATE ON "auto_attendants" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "auto_attendant_options_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "auto_attendant_options" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "auto_attendant_options_notify_truncate" AFTER TRUNCATE ON "auto_attendant_options" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
