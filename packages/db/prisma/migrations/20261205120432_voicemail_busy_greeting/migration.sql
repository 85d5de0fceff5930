-- AlterTable
-- A second greeting per box for calls that found the owner busy (CFB). The existing "greeting"
-- column stays the unavailable greeting, so boxes keep what they had.
ALTER TABLE "voicemail_boxes" ADD COLUMN     "busy_greeting" TEXT;
