-- AlterTable
ALTER TABLE "domains" ADD COLUMN     "transcode_codecs" TEXT[] DEFAULT ARRAY['PCMU', 'PCMA']::TEXT[];
