-- AlterEnum
ALTER TYPE "call_disposition" ADD VALUE 'rejected';

-- AlterTable
ALTER TABLE "cdrs" ADD COLUMN     "forward_type" "call_forward_type",
ADD COLUMN     "forwarded_from" TEXT;
