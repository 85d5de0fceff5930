-- AlterTable
ALTER TABLE "invoices" ADD COLUMN     "emailed_at" TIMESTAMPTZ(3);
