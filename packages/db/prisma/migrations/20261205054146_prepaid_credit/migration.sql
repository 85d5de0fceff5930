-- CreateEnum
CREATE TYPE "top_up_kind" AS ENUM ('operator', 'reseller', 'voucher');

-- CreateTable
CREATE TABLE "credit_accounts" (
    "customer_id" UUID NOT NULL,
    "prepaid" BOOLEAN NOT NULL DEFAULT false,
    "balance" DECIMAL(18,6) NOT NULL DEFAULT 0,
    "low_balance_threshold" DECIMAL(18,6),
    "low_balance_warned" BOOLEAN NOT NULL DEFAULT false,
    "notify_email" TEXT,
    "webhook_url" TEXT,
    "daily_limit" DECIMAL(18,6),
    "monthly_limit" DECIMAL(18,6),
    "limit_warn_percent" INTEGER NOT NULL DEFAULT 80,
    "blocked_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "credit_accounts_pkey" PRIMARY KEY ("customer_id")
);

-- CreateTable
CREATE TABLE "credit_top_ups" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "kind" "top_up_kind" NOT NULL,
    "amount" DECIMAL(18,6) NOT NULL,
    "balance_after" DECIMAL(18,6) NOT NULL,
    "voucher_id" UUID,
    "user_id" UUID,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "credit_top_ups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vouchers" (
    "id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "code_hint" TEXT NOT NULL,
    "amount" DECIMAL(18,6) NOT NULL,
    "reseller_id" UUID,
    "expires_at" TIMESTAMPTZ(3),
    "redeemed_at" TIMESTAMPTZ(3),
    "redeemed_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "vouchers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "credit_reservations" (
    "call_id" TEXT NOT NULL,
    "customer_id" UUID NOT NULL,
    "amount" DECIMAL(18,6) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "credit_reservations_pkey" PRIMARY KEY ("call_id")
);

-- CreateTable
CREATE TABLE "credit_debits" (
    "cdr_id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "amount" DECIMAL(18,6) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "credit_debits_pkey" PRIMARY KEY ("cdr_id")
);

-- CreateTable
CREATE TABLE "subscriber_spend_limits" (
    "subscriber_id" UUID NOT NULL,
    "daily_limit" DECIMAL(18,6),
    "monthly_limit" DECIMAL(18,6),
    "limit_warn_percent" INTEGER NOT NULL DEFAULT 80,
    "blocked_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subscriber_spend_limits_pkey" PRIMARY KEY ("subscriber_id")
);

-- CreateTable
CREATE TABLE "spend_totals" (
    "owner_id" UUID NOT NULL,
    "period" TEXT NOT NULL,
    "starts" DATE NOT NULL,
    "amount" DECIMAL(18,6) NOT NULL DEFAULT 0,
    "warned" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "spend_totals_pkey" PRIMARY KEY ("owner_id","period","starts")
);

-- CreateTable
CREATE TABLE "customer_zones" (
    "customer_id" UUID NOT NULL,
    "zone" TEXT NOT NULL,
    "first_call_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "customer_zones_pkey" PRIMARY KEY ("customer_id","zone")
);

-- CreateTable
CREATE TABLE "high_risk_prefixes" (
    "prefix" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "high_risk_prefixes_pkey" PRIMARY KEY ("prefix")
);

-- CreateTable
CREATE TABLE "credit_events" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "detail" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "credit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "credit_top_ups_voucher_id_key" ON "credit_top_ups"("voucher_id");

-- CreateIndex
CREATE INDEX "credit_top_ups_customer_id_created_at_idx" ON "credit_top_ups"("customer_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "vouchers_code_hash_key" ON "vouchers"("code_hash");

-- CreateIndex
CREATE INDEX "vouchers_reseller_id_idx" ON "vouchers"("reseller_id");

-- CreateIndex
CREATE INDEX "credit_reservations_customer_id_idx" ON "credit_reservations"("customer_id");

-- CreateIndex
CREATE INDEX "credit_debits_customer_id_idx" ON "credit_debits"("customer_id");

-- CreateIndex
CREATE INDEX "credit_events_customer_id_created_at_idx" ON "credit_events"("customer_id", "created_at");

-- CreateIndex
CREATE INDEX "credit_events_delivered_at_idx" ON "credit_events"("delivered_at");

-- AddForeignKey
ALTER TABLE "credit_accounts" ADD CONSTRAINT "credit_accounts_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credit_top_ups" ADD CONSTRAINT "credit_top_ups_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "credit_accounts"("customer_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vouchers" ADD CONSTRAINT "vouchers_redeemed_by_fkey" FOREIGN KEY ("redeemed_by") REFERENCES "credit_accounts"("customer_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credit_reservations" ADD CONSTRAINT "credit_reservations_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "credit_accounts"("customer_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscriber_spend_limits" ADD CONSTRAINT "subscriber_spend_limits_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Credit settings join the change feed (sip-core keeps which customers are prepaid, their limits and
-- blocks in memory). The balance column is left out: it changes with every debit, and sip-core reads
-- it only inside the reservation's transaction. These tables are keyed by their owner, not by an
-- "id" column, so their triggers name the key column (the change feed's "id" is that key).

-- CreateFunction
CREATE FUNCTION "switchboard_notify_keyed_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', 'truncate', 'id', NULL)::text);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', 'delete', 'id', to_jsonb(OLD) ->> TG_ARGV[0])::text);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP), 'id', to_jsonb(NEW) ->> TG_ARGV[0])::text);
    RETURN NEW;
END;
$$;

-- CreateTriggers
CREATE TRIGGER "credit_accounts_notify_change" AFTER INSERT OR DELETE OR UPDATE OF "prepaid", "daily_limit", "monthly_limit", "limit_warn_percent", "blocked_until" ON "credit_accounts" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_keyed_change"('customer_id');
CREATE TRIGGER "credit_accounts_notify_truncate" AFTER TRUNCATE ON "credit_accounts" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_keyed_change"('customer_id');
CREATE TRIGGER "subscriber_spend_limits_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "subscriber_spend_limits" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_keyed_change"('subscriber_id');
CREATE TRIGGER "subscriber_spend_limits_notify_truncate" AFTER TRUNCATE ON "subscriber_spend_limits" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_keyed_change"('subscriber_id');
