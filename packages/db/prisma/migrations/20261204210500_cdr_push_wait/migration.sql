-- AlterTable
ALTER TABLE "cdrs" ADD COLUMN     "push_wait_ms" INTEGER;
