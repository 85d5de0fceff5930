-- CreateEnum
CREATE TYPE "srtp_policy" AS ENUM ('optional', 'preferred', 'mandatory');

-- AlterTable
ALTER TABLE "subscribers" ADD COLUMN     "srtp" "srtp_policy" NOT NULL DEFAULT 'optional';
