-- AlterTable
ALTER TABLE "cdrs" ADD COLUMN     "caller_withheld" BOOLEAN NOT NULL DEFAULT false;
