-- CreateEnum
CREATE TYPE "high_risk_action" AS ENUM ('alert', 'block');

-- AlterTable
ALTER TABLE "credit_accounts" ADD COLUMN     "burst_calls" INTEGER,
ADD COLUMN     "burst_seconds" INTEGER,
ADD COLUMN     "high_risk_action" "high_risk_action" NOT NULL DEFAULT 'alert';

-- Fraud screening at call start (docs/billing.md, "Fraud limits") follows the new settings and the
-- high-risk prefix list on the change feed. A second trigger for the new columns, so the existing
-- one stays as it is.

-- CreateTriggers
CREATE TRIGGER "credit_accounts_fraud_notify_change" AFTER UPDATE OF "high_risk_action", "burst_calls", "burst_seconds" ON "credit_accounts" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_keyed_change"('customer_id');
CREATE TRIGGER "high_risk_prefixes_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "high_risk_prefixes" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_keyed_change"('prefix');
CREATE TRIGGER "high_risk_prefixes_notify_truncate" AFTER TRUNCATE ON "high_risk_prefixes" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_keyed_change"('prefix');
