-- Session border controller (docs/sbc.md): header rule sets bound to peering groups, gateways and
-- domains; per-peer topology hiding and call admission limits; a customer's call rate limit. Every
-- table joins the change feed (see migration change_notifications): sip-core holds them in memory.

-- CreateEnum
CREATE TYPE "header_rule_direction" AS ENUM ('inbound', 'outbound');

-- CreateEnum
CREATE TYPE "header_rule_action" AS ENUM ('add_header', 'remove_header', 'replace_header', 'set_ruri_user', 'set_ruri_host', 'keep_headers');

-- AlterTable
ALTER TABLE "customers" ADD COLUMN "max_calls_per_second" INTEGER;

-- CreateTable
CREATE TABLE "header_rule_sets" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "header_rule_sets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "header_rules" (
    "id" UUID NOT NULL,
    "rule_set_id" UUID NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT,
    "direction" "header_rule_direction",
    "method" TEXT,
    "header_name" TEXT,
    "header_pattern" TEXT,
    "source_address" TEXT,
    "caller_pattern" TEXT,
    "callee_pattern" TEXT,
    "action" "header_rule_action" NOT NULL,
    "target_header" TEXT,
    "match_pattern" TEXT,
    "value" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "header_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "header_rule_bindings" (
    "id" UUID NOT NULL,
    "rule_set_id" UUID NOT NULL,
    "direction" "header_rule_direction" NOT NULL,
    "peering_group_id" UUID,
    "gateway_id" UUID,
    "domain_id" UUID,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "header_rule_bindings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "peer_policies" (
    "id" UUID NOT NULL,
    "gateway_id" UUID,
    "peering_group_id" UUID,
    "topology_hiding" BOOLEAN,
    "max_concurrent_calls" INTEGER,
    "max_calls_per_second" INTEGER,
    "max_call_duration" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "peer_policies_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "header_rule_sets_name_key" ON "header_rule_sets"("name");

-- CreateIndex
CREATE INDEX "header_rules_rule_set_id_priority_idx" ON "header_rules"("rule_set_id", "priority");

-- CreateIndex
CREATE INDEX "header_rule_bindings_rule_set_id_idx" ON "header_rule_bindings"("rule_set_id");

-- CreateIndex
CREATE INDEX "header_rule_bindings_peering_group_id_idx" ON "header_rule_bindings"("peering_group_id");

-- CreateIndex
CREATE INDEX "header_rule_bindings_gateway_id_idx" ON "header_rule_bindings"("gateway_id");

-- CreateIndex
CREATE INDEX "header_rule_bindings_domain_id_idx" ON "header_rule_bindings"("domain_id");

-- CreateIndex
CREATE UNIQUE INDEX "peer_policies_gateway_id_key" ON "peer_policies"("gateway_id");

-- CreateIndex
CREATE UNIQUE INDEX "peer_policies_peering_group_id_key" ON "peer_policies"("peering_group_id");

-- AddForeignKey
ALTER TABLE "header_rules" ADD CONSTRAINT "header_rules_rule_set_id_fkey" FOREIGN KEY ("rule_set_id") REFERENCES "header_rule_sets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "header_rule_bindings" ADD CONSTRAINT "header_rule_bindings_rule_set_id_fkey" FOREIGN KEY ("rule_set_id") REFERENCES "header_rule_sets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "header_rule_bindings" ADD CONSTRAINT "header_rule_bindings_peering_group_id_fkey" FOREIGN KEY ("peering_group_id") REFERENCES "peering_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "header_rule_bindings" ADD CONSTRAINT "header_rule_bindings_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "peer_gateways"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "header_rule_bindings" ADD CONSTRAINT "header_rule_bindings_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "peer_policies" ADD CONSTRAINT "peer_policies_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "peer_gateways"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "peer_policies" ADD CONSTRAINT "peer_policies_peering_group_id_fkey" FOREIGN KEY ("peering_group_id") REFERENCES "peering_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTriggers
CREATE TRIGGER "header_rule_sets_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "header_rule_sets" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "header_rule_sets_notify_truncate" AFTER TRUNCATE ON "header_rule_sets" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "header_rules_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "header_rules" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "header_rules_notify_truncate" AFTER TRUNCATE ON "header_rules" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "header_rule_bindings_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "header_rule_bindings" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "header_rule_bindings_notify_truncate" AFTER TRUNCATE ON "header_rule_bindings" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peer_policies_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "peer_policies" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peer_policies_notify_truncate" AFTER TRUNCATE ON "peer_policies" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
