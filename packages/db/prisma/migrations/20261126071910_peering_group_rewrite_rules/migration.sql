-- AlterTable
ALTER TABLE "peering_groups" ADD COLUMN     "rewrite_rule_set_id" UUID;

-- CreateIndex
CREATE INDEX "peering_groups_rewrite_rule_set_id_idx" ON "peering_groups"("rewrite_rule_set_id");

-- AddForeignKey
ALTER TABLE "peering_groups" ADD CONSTRAINT "peering_groups_rewrite_rule_set_id_fkey" FOREIGN KEY ("rewrite_rule_set_id") REFERENCES "rewrite_rule_sets"("id") ON DELETE SET NULL ON UPDATE CASCADE;
