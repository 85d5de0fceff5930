-- Push credentials join the change feed (see migration change_notifications): sip-core caches each
-- domain's decrypted credentials, so an upload, a replacement or a deletion must reach every node
-- without a restart.

-- CreateTriggers
CREATE TRIGGER "push_credentials_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "push_credentials" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "push_credentials_notify_truncate" AFTER TRUNCATE ON "push_credentials" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
