-- AlterTable
ALTER TABLE "domains" ADD COLUMN     "upstream_gateway_id" UUID;

-- CreateIndex
CREATE INDEX "domains_upstream_gateway_id_idx" ON "domains"("upstream_gateway_id");

-- AddForeignKey
ALTER TABLE "domains" ADD CONSTRAINT "domains_upstream_gateway_id_fkey" FOREIGN KEY ("upstream_gateway_id") REFERENCES "peer_gateways"("id") ON DELETE SET NULL ON UPDATE CASCADE;
