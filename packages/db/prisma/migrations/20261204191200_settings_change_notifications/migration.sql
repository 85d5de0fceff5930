-- Operator settings join the change feed (see migration change_notifications): every sip-core applies a
-- changed setting at once, without a restart.

-- CreateTriggers
CREATE TRIGGER "settings_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "settings" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "settings_notify_truncate" AFTER TRUNCATE ON "settings" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
