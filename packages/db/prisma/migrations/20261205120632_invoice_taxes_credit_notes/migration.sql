-- AlterEnum
ALTER TYPE "top_up_kind" ADD VALUE 'credit_note';

-- AlterTable
ALTER TABLE "customer_billing_settings" ADD COLUMN     "tax_id" TEXT,
ADD COLUMN     "tax_rate" DECIMAL(5,2);

-- AlterTable
ALTER TABLE "invoice_templates" ADD COLUMN     "default_tax_rate" DECIMAL(5,2),
ADD COLUMN     "tax_id" TEXT;

-- AlterTable
ALTER TABLE "invoices" ADD COLUMN     "customer_tax_id" TEXT,
ADD COLUMN     "issuer_tax_id" TEXT,
ADD COLUMN     "net" DECIMAL(18,6),
ADD COLUMN     "tax" DECIMAL(18,6),
ADD COLUMN     "taxes" JSONB;

-- CreateTable
CREATE TABLE "credit_note_counters" (
    "year" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,

    CONSTRAINT "credit_note_counters_pkey" PRIMARY KEY ("year")
);

-- CreateTable
CREATE TABLE "credit_notes" (
    "id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "invoice_id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "reseller_id" UUID,
    "currency" VARCHAR(3) NOT NULL,
    "total" DECIMAL(18,6) NOT NULL,
    "net" DECIMAL(18,6) NOT NULL,
    "tax" DECIMAL(18,6) NOT NULL,
    "tax_rate" DECIMAL(5,2) NOT NULL,
    "reason" TEXT NOT NULL,
    "balance_credited" BOOLEAN NOT NULL DEFAULT false,
    "pdf" BYTEA NOT NULL,
    "user_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "credit_notes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "credit_notes_number_key" ON "credit_notes"("number");

-- CreateIndex
CREATE INDEX "credit_notes_invoice_id_idx" ON "credit_notes"("invoice_id");

-- CreateIndex
CREATE INDEX "credit_notes_customer_id_idx" ON "credit_notes"("customer_id");

-- CreateIndex
CREATE INDEX "credit_notes_reseller_id_idx" ON "credit_notes"("reseller_id");

-- AddForeignKey
ALTER TABLE "credit_notes" ADD CONSTRAINT "credit_notes_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
