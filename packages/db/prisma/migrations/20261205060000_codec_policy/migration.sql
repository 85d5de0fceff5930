-- AlterTable
ALTER TABLE "domains" ADD COLUMN     "codec_allow" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "codec_mask" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "codec_strip" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "codec_transcode" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "dtmf_events" BOOLEAN,
ADD COLUMN     "ptime" INTEGER;

-- AlterTable
ALTER TABLE "peer_policies" ADD COLUMN     "codec_allow" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "codec_mask" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "codec_strip" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "codec_transcode" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "dtmf_events" BOOLEAN,
ADD COLUMN     "dtmf_info" BOOLEAN,
ADD COLUMN     "ptime" INTEGER;
