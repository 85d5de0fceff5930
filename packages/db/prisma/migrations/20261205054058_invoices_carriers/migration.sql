-- CreateTable
CREATE TABLE "customer_billing_settings" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "credit_limit" DECIMAL(18,6),
    "carrier" BOOLEAN NOT NULL DEFAULT false,
    "margin_protection" BOOLEAN,
    "peering_group_ids" UUID[] DEFAULT ARRAY[]::UUID[],
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "customer_billing_settings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customer_trunks" (
    "id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "trusted_sources" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "customer_trunks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_templates" (
    "id" UUID NOT NULL,
    "reseller_id" UUID,
    "company_name" TEXT NOT NULL,
    "address" TEXT,
    "footer" TEXT,
    "logo" BYTEA,
    "logo_type" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "invoice_templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_counters" (
    "year" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,

    CONSTRAINT "invoice_counters_pkey" PRIMARY KEY ("year")
);

-- CreateTable
CREATE TABLE "invoices" (
    "id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "customer_id" UUID NOT NULL,
    "reseller_id" UUID,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "total" DECIMAL(18,6) NOT NULL,
    "lines" JSONB NOT NULL,
    "pdf" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "customer_billing_settings_customer_id_key" ON "customer_billing_settings"("customer_id");

-- CreateIndex
CREATE INDEX "customer_trunks_customer_id_idx" ON "customer_trunks"("customer_id");

-- CreateIndex
CREATE INDEX "customer_trunks_subscriber_id_idx" ON "customer_trunks"("subscriber_id");

-- CreateIndex
CREATE UNIQUE INDEX "invoice_templates_reseller_id_key" ON "invoice_templates"("reseller_id");

-- CreateIndex
CREATE UNIQUE INDEX "invoices_number_key" ON "invoices"("number");

-- CreateIndex
CREATE INDEX "invoices_reseller_id_idx" ON "invoices"("reseller_id");

-- CreateIndex
CREATE UNIQUE INDEX "invoices_customer_id_period_start_key" ON "invoices"("customer_id", "period_start");

-- AddForeignKey
ALTER TABLE "customer_billing_settings" ADD CONSTRAINT "customer_billing_settings_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_trunks" ADD CONSTRAINT "customer_trunks_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_trunks" ADD CONSTRAINT "customer_trunks_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoice_templates" ADD CONSTRAINT "invoice_templates_reseller_id_fkey" FOREIGN KEY ("reseller_id") REFERENCES "resellers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Change feed: sip-core keeps the trunks' addresses and the customers' routing plans, margin
-- protection and credit limits in memory and reloads them when these change.
CREATE TRIGGER "customer_billing_settings_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "customer_billing_settings" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "customer_billing_settings_notify_truncate" AFTER TRUNCATE ON "customer_billing_settings" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "customer_trunks_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "customer_trunks" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "customer_trunks_notify_truncate" AFTER TRUNCATE ON "customer_trunks" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
