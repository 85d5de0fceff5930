-- Customers join the change feed (see migration change_notifications): a customer's status
-- decides whether its subscribers may register and call, and sip-core caches it with each
-- subscriber, so a customer disabled or locked must reach every node without a restart.
-- Customers change rarely; every column is announced.

-- CreateTriggers
CREATE TRIGGER "customers_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "customers" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "customers_notify_truncate" AFTER TRUNCATE ON "customers" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
