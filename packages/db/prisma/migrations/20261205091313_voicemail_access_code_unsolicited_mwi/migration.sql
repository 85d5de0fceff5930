-- AlterTable
ALTER TABLE "domains" ADD COLUMN     "voicemail_access_code" TEXT;

-- AlterTable
ALTER TABLE "voicemail_boxes" ADD COLUMN     "unsolicited_mwi" BOOLEAN NOT NULL DEFAULT false;
