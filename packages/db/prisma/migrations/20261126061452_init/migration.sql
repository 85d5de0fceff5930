-- CreateEnum
CREATE TYPE "account_status" AS ENUM ('active', 'locked', 'terminated');

-- CreateEnum
CREATE TYPE "transport" AS ENUM ('udp', 'tcp', 'tls', 'ws', 'wss');

-- CreateEnum
CREATE TYPE "call_forward_type" AS ENUM ('cfu', 'cfb', 'cft', 'cfna');

-- CreateEnum
CREATE TYPE "call_forward_destination_kind" AS ENUM ('uri', 'number');

-- CreateEnum
CREATE TYPE "rewrite_direction" AS ENUM ('inbound_from_peer', 'outbound_to_peer', 'from_subscriber', 'to_subscriber');

-- CreateEnum
CREATE TYPE "rewrite_field" AS ENUM ('caller', 'callee');

-- CreateEnum
CREATE TYPE "call_direction" AS ENUM ('internal', 'outbound', 'inbound');

-- CreateEnum
CREATE TYPE "call_disposition" AS ENUM ('answered', 'busy', 'no_answer', 'cancelled', 'failed');

-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('operator', 'reseller', 'customer');

-- CreateTable
CREATE TABLE "resellers" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" "account_status" NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "resellers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customers" (
    "id" UUID NOT NULL,
    "reseller_id" UUID,
    "name" TEXT NOT NULL,
    "external_id" TEXT,
    "status" "account_status" NOT NULL DEFAULT 'active',
    "max_concurrent_calls" INTEGER,
    "max_subscribers" INTEGER,
    "max_call_duration" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "domains" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "reseller_id" UUID,
    "self_signup" BOOLEAN NOT NULL DEFAULT false,
    "country_code" TEXT,
    "national_prefix" TEXT,
    "international_prefix" TEXT,
    "area_code" TEXT,
    "rewrite_rule_set_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "domains_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscribers" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "display_name" TEXT,
    "status" "account_status" NOT NULL DEFAULT 'active',
    "ha1_md5" TEXT NOT NULL,
    "ha1_sha256" TEXT NOT NULL,
    "max_concurrent_calls" INTEGER,
    "rewrite_rule_set_id" UUID,
    "clir" BOOLEAN NOT NULL DEFAULT false,
    "allowed_callee_prefixes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "blocked_callee_prefixes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subscribers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "numbers" (
    "id" UUID NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "e164" TEXT NOT NULL,
    "country_code" TEXT NOT NULL,
    "area_code" TEXT NOT NULL DEFAULT '',
    "subscriber_number" TEXT NOT NULL,
    "is_primary" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "numbers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "registrations" (
    "id" UUID NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "aor" TEXT NOT NULL,
    "binding_key" TEXT NOT NULL,
    "contact_uri" TEXT NOT NULL,
    "received_address" TEXT NOT NULL,
    "received_port" INTEGER NOT NULL,
    "transport" "transport" NOT NULL,
    "local_socket" TEXT,
    "path" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "user_agent" TEXT,
    "instance_id" TEXT,
    "reg_id" INTEGER,
    "q" DOUBLE PRECISION,
    "call_id" TEXT NOT NULL,
    "cseq" INTEGER NOT NULL,
    "pn_provider" TEXT,
    "pn_prid" TEXT,
    "pn_param" TEXT,
    "node" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "registrations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "call_forwards" (
    "id" UUID NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "type" "call_forward_type" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "ring_timeout" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "call_forwards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "call_forward_destinations" (
    "id" UUID NOT NULL,
    "call_forward_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "kind" "call_forward_destination_kind" NOT NULL,
    "destination" TEXT NOT NULL,
    "ring_timeout" INTEGER,

    CONSTRAINT "call_forward_destinations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rewrite_rule_sets" (
    "id" UUID NOT NULL,
    "reseller_id" UUID,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rewrite_rule_sets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rewrite_rules" (
    "id" UUID NOT NULL,
    "rule_set_id" UUID NOT NULL,
    "direction" "rewrite_direction" NOT NULL,
    "field" "rewrite_field" NOT NULL,
    "match_pattern" TEXT NOT NULL,
    "replacement" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rewrite_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "peering_groups" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "peering_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "peer_gateways" (
    "id" UUID NOT NULL,
    "group_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL DEFAULT 5060,
    "transport" "transport" NOT NULL DEFAULT 'udp',
    "auth_username" TEXT,
    "auth_password" TEXT,
    "auth_realm" TEXT,
    "auth_ha1_md5" TEXT,
    "auth_ha1_sha256" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "weight" INTEGER NOT NULL DEFAULT 1,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "trusted_sources" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "peer_gateways_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "peering_rules" (
    "id" UUID NOT NULL,
    "group_id" UUID NOT NULL,
    "callee_prefix" TEXT NOT NULL DEFAULT '',
    "caller_pattern" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "peering_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cdrs" (
    "id" UUID NOT NULL,
    "call_id" TEXT NOT NULL,
    "a_leg_id" TEXT,
    "b_leg_id" TEXT,
    "direction" "call_direction" NOT NULL,
    "caller_dialled" TEXT NOT NULL,
    "callee_dialled" TEXT NOT NULL,
    "caller_routed" TEXT,
    "callee_routed" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "answered_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL DEFAULT 0,
    "disposition" "call_disposition" NOT NULL,
    "sip_code" INTEGER,
    "sip_reason" TEXT,
    "source_address" TEXT,
    "node" TEXT,
    "media_stats" JSONB,
    "caller_subscriber_id" UUID,
    "callee_subscriber_id" UUID,
    "caller_customer_id" UUID,
    "callee_customer_id" UUID,
    "peer_gateway_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cdrs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "display_name" TEXT,
    "password_hash" TEXT NOT NULL,
    "role" "user_role" NOT NULL,
    "reseller_id" UUID,
    "customer_id" UUID,
    "subscriber_id" UUID,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "last_login_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "last_seen_at" TIMESTAMPTZ(3),
    "source_ip" TEXT,
    "user_agent" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_entries" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_user_id" UUID,
    "actor_api_key_id" UUID,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity" TEXT NOT NULL,
    "entity_id" TEXT,
    "before" JSONB,
    "after" JSONB,
    "source_ip" TEXT,

    CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ip_bans" (
    "id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "reason" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_by_user_id" UUID,
    "hit_count" INTEGER NOT NULL DEFAULT 0,
    "last_hit_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ip_bans_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "resellers_name_key" ON "resellers"("name");

-- CreateIndex
CREATE INDEX "customers_reseller_id_idx" ON "customers"("reseller_id");

-- CreateIndex
CREATE UNIQUE INDEX "domains_name_key" ON "domains"("name");

-- CreateIndex
CREATE INDEX "domains_reseller_id_idx" ON "domains"("reseller_id");

-- CreateIndex
CREATE INDEX "domains_rewrite_rule_set_id_idx" ON "domains"("rewrite_rule_set_id");

-- CreateIndex
CREATE INDEX "subscribers_customer_id_idx" ON "subscribers"("customer_id");

-- CreateIndex
CREATE INDEX "subscribers_rewrite_rule_set_id_idx" ON "subscribers"("rewrite_rule_set_id");

-- CreateIndex
CREATE UNIQUE INDEX "subscribers_domain_id_username_key" ON "subscribers"("domain_id", "username");

-- CreateIndex
CREATE UNIQUE INDEX "numbers_e164_key" ON "numbers"("e164");

-- CreateIndex
CREATE INDEX "numbers_subscriber_id_idx" ON "numbers"("subscriber_id");

-- CreateIndex
CREATE UNIQUE INDEX "numbers_one_primary_per_subscriber" ON "numbers"("subscriber_id") WHERE (is_primary);

-- CreateIndex
CREATE INDEX "registrations_subscriber_id_idx" ON "registrations"("subscriber_id");

-- CreateIndex
CREATE INDEX "registrations_expires_at_idx" ON "registrations"("expires_at");

-- CreateIndex
CREATE INDEX "registrations_node_idx" ON "registrations"("node");

-- CreateIndex
CREATE UNIQUE INDEX "registrations_aor_binding_key_key" ON "registrations"("aor", "binding_key");

-- CreateIndex
CREATE UNIQUE INDEX "call_forwards_subscriber_id_type_key" ON "call_forwards"("subscriber_id", "type");

-- CreateIndex
CREATE UNIQUE INDEX "call_forward_destinations_call_forward_id_position_key" ON "call_forward_destinations"("call_forward_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "rewrite_rule_sets_reseller_id_name_key" ON "rewrite_rule_sets"("reseller_id", "name");

-- CreateIndex
CREATE INDEX "rewrite_rules_rule_set_id_direction_field_priority_idx" ON "rewrite_rules"("rule_set_id", "direction", "field", "priority");

-- CreateIndex
CREATE UNIQUE INDEX "peering_groups_name_key" ON "peering_groups"("name");

-- CreateIndex
CREATE UNIQUE INDEX "peer_gateways_group_id_name_key" ON "peer_gateways"("group_id", "name");

-- CreateIndex
CREATE INDEX "peering_rules_callee_prefix_idx" ON "peering_rules"("callee_prefix");

-- CreateIndex
CREATE INDEX "peering_rules_group_id_idx" ON "peering_rules"("group_id");

-- CreateIndex
CREATE INDEX "cdrs_started_at_idx" ON "cdrs"("started_at");

-- CreateIndex
CREATE INDEX "cdrs_call_id_idx" ON "cdrs"("call_id");

-- CreateIndex
CREATE INDEX "cdrs_caller_subscriber_id_started_at_idx" ON "cdrs"("caller_subscriber_id", "started_at");

-- CreateIndex
CREATE INDEX "cdrs_callee_subscriber_id_started_at_idx" ON "cdrs"("callee_subscriber_id", "started_at");

-- CreateIndex
CREATE INDEX "cdrs_caller_customer_id_started_at_idx" ON "cdrs"("caller_customer_id", "started_at");

-- CreateIndex
CREATE INDEX "cdrs_callee_customer_id_started_at_idx" ON "cdrs"("callee_customer_id", "started_at");

-- CreateIndex
CREATE INDEX "cdrs_peer_gateway_id_idx" ON "cdrs"("peer_gateway_id");

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "users_reseller_id_idx" ON "users"("reseller_id");

-- CreateIndex
CREATE INDEX "users_customer_id_idx" ON "users"("customer_id");

-- CreateIndex
CREATE INDEX "users_subscriber_id_idx" ON "users"("subscriber_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_user_id_idx" ON "api_keys"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions"("token_hash");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");

-- CreateIndex
CREATE INDEX "audit_entries_at_idx" ON "audit_entries"("at");

-- CreateIndex
CREATE INDEX "audit_entries_entity_entity_id_idx" ON "audit_entries"("entity", "entity_id");

-- CreateIndex
CREATE INDEX "audit_entries_actor_user_id_idx" ON "audit_entries"("actor_user_id");

-- CreateIndex
CREATE UNIQUE INDEX "ip_bans_address_key" ON "ip_bans"("address");

-- CreateIndex
CREATE INDEX "ip_bans_expires_at_idx" ON "ip_bans"("expires_at");

-- CreateIndex
CREATE INDEX "ip_bans_created_by_user_id_idx" ON "ip_bans"("created_by_user_id");

-- AddForeignKey
ALTER TABLE "customers" ADD CONSTRAINT "customers_reseller_id_fkey" FOREIGN KEY ("reseller_id") REFERENCES "resellers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "domains" ADD CONSTRAINT "domains_reseller_id_fkey" FOREIGN KEY ("reseller_id") REFERENCES "resellers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "domains" ADD CONSTRAINT "domains_rewrite_rule_set_id_fkey" FOREIGN KEY ("rewrite_rule_set_id") REFERENCES "rewrite_rule_sets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_rewrite_rule_set_id_fkey" FOREIGN KEY ("rewrite_rule_set_id") REFERENCES "rewrite_rule_sets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "numbers" ADD CONSTRAINT "numbers_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registrations" ADD CONSTRAINT "registrations_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "call_forwards" ADD CONSTRAINT "call_forwards_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "call_forward_destinations" ADD CONSTRAINT "call_forward_destinations_call_forward_id_fkey" FOREIGN KEY ("call_forward_id") REFERENCES "call_forwards"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rewrite_rule_sets" ADD CONSTRAINT "rewrite_rule_sets_reseller_id_fkey" FOREIGN KEY ("reseller_id") REFERENCES "resellers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rewrite_rules" ADD CONSTRAINT "rewrite_rules_rule_set_id_fkey" FOREIGN KEY ("rule_set_id") REFERENCES "rewrite_rule_sets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "peer_gateways" ADD CONSTRAINT "peer_gateways_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "peering_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "peering_rules" ADD CONSTRAINT "peering_rules_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "peering_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cdrs" ADD CONSTRAINT "cdrs_caller_subscriber_id_fkey" FOREIGN KEY ("caller_subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cdrs" ADD CONSTRAINT "cdrs_callee_subscriber_id_fkey" FOREIGN KEY ("callee_subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cdrs" ADD CONSTRAINT "cdrs_caller_customer_id_fkey" FOREIGN KEY ("caller_customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cdrs" ADD CONSTRAINT "cdrs_callee_customer_id_fkey" FOREIGN KEY ("callee_customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cdrs" ADD CONSTRAINT "cdrs_peer_gateway_id_fkey" FOREIGN KEY ("peer_gateway_id") REFERENCES "peer_gateways"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_reseller_id_fkey" FOREIGN KEY ("reseller_id") REFERENCES "resellers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_entries" ADD CONSTRAINT "audit_entries_actor_user_id_fkey" FOREIGN KEY ("actor_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_entries" ADD CONSTRAINT "audit_entries_actor_api_key_id_fkey" FOREIGN KEY ("actor_api_key_id") REFERENCES "api_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ip_bans" ADD CONSTRAINT "ip_bans_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
