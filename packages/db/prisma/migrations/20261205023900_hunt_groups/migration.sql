-- CreateEnum
CREATE TYPE "hunt_strategy" AS ENUM ('parallel', 'sequential', 'round_robin');

-- CreateEnum
CREATE TYPE "hunt_destination_kind" AS ENUM ('uri', 'number');

-- CreateTable
CREATE TABLE "hunt_groups" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "strategy" "hunt_strategy" NOT NULL DEFAULT 'parallel',
    "ring_timeout" INTEGER NOT NULL DEFAULT 20,
    "no_answer_kind" "hunt_destination_kind",
    "no_answer_destination" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "hunt_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "hunt_group_members" (
    "id" UUID NOT NULL,
    "hunt_group_id" UUID NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "hunt_group_members_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "hunt_groups_customer_id_idx" ON "hunt_groups"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "hunt_groups_domain_id_username_key" ON "hunt_groups"("domain_id", "username");

-- CreateIndex
CREATE INDEX "hunt_group_members_subscriber_id_idx" ON "hunt_group_members"("subscriber_id");

-- CreateIndex
CREATE UNIQUE INDEX "hunt_group_members_hunt_group_id_position_key" ON "hunt_group_members"("hunt_group_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "hunt_group_members_hunt_group_id_subscriber_id_key" ON "hunt_group_members"("hunt_group_id", "subscriber_id");

-- AddForeignKey
ALTER TABLE "hunt_groups" ADD CONSTRAINT "hunt_groups_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hunt_groups" ADD CONSTRAINT "hunt_groups_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hunt_group_members" ADD CONSTRAINT "hunt_group_members_hunt_group_id_fkey" FOREIGN KEY ("hunt_group_id") REFERENCES "hunt_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hunt_group_members" ADD CONSTRAINT "hunt_group_members_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Change notifications (see 20261126061500_change_notifications): sip-core holds the hunt groups in memory.
CREATE TRIGGER "hunt_groups_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "hunt_groups" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "hunt_groups_notify_truncate" AFTER TRUNCATE ON "hunt_groups" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "hunt_group_members_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "hunt_group_members" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "hunt_group_members_notify_truncate" AFTER TRUNCATE ON "hunt_group_members" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
