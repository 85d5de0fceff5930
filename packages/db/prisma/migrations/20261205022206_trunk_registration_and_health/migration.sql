-- CreateEnum
CREATE TYPE "registration_state" AS ENUM ('disabled', 'registering', 'registered', 'failing');

-- CreateEnum
CREATE TYPE "gateway_health" AS ENUM ('unknown', 'up', 'down');

-- AlterTable
ALTER TABLE "peer_gateways" ADD COLUMN     "auth_password_sealed" TEXT,
ADD COLUMN     "health_check" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "health_interval" INTEGER NOT NULL DEFAULT 30,
ADD COLUMN     "health_threshold" INTEGER NOT NULL DEFAULT 3,
ADD COLUMN     "register_contact_user" TEXT,
ADD COLUMN     "register_enabled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "register_expires" INTEGER NOT NULL DEFAULT 3600,
ADD COLUMN     "register_outbound_proxy" TEXT,
ADD COLUMN     "register_password_sealed" TEXT,
ADD COLUMN     "register_realm" TEXT,
ADD COLUMN     "register_transport" "transport" NOT NULL DEFAULT 'udp',
ADD COLUMN     "register_username" TEXT,
ADD COLUMN     "registrar_uri" TEXT;

-- CreateTable
CREATE TABLE "peer_gateway_status" (
    "gateway_id" UUID NOT NULL,
    "lease_node" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "registration" "registration_state" NOT NULL DEFAULT 'disabled',
    "registration_error" TEXT,
    "registered_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "health" "gateway_health" NOT NULL DEFAULT 'unknown',
    "health_error" TEXT,
    "health_changed_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "peer_gateway_status_pkey" PRIMARY KEY ("gateway_id")
);

-- CreateTable
CREATE TABLE "peer_gateway_events" (
    "id" UUID NOT NULL,
    "gateway_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "detail" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "peer_gateway_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "peer_gateway_events_gateway_id_at_idx" ON "peer_gateway_events"("gateway_id", "at");

-- AddForeignKey
ALTER TABLE "peer_gateway_status" ADD CONSTRAINT "peer_gateway_status_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "peer_gateways"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "peer_gateway_events" ADD CONSTRAINT "peer_gateway_events_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "peer_gateways"("id") ON DELETE CASCADE ON UPDATE CASCADE;
