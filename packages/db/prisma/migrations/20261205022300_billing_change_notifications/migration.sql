-- Billing joins the change feed (see migration change_notifications): the rater keeps the profiles,
-- their peak times, the deck versions and who is linked to which profile in memory and reloads them
-- when they change. Rates themselves are not announced: a deck's rates are written once with the
-- deck row, so the deck's own notification covers them (and a 50,000-row import sends one message,
-- not 50,000). Resellers join for their billing profile link; they change rarely.

-- CreateTriggers
CREATE TRIGGER "billing_profiles_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "billing_profiles" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "billing_profiles_notify_truncate" AFTER TRUNCATE ON "billing_profiles" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "billing_peak_times_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "billing_peak_times" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "billing_peak_times_notify_truncate" AFTER TRUNCATE ON "billing_peak_times" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "rate_decks_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "rate_decks" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "rate_decks_notify_truncate" AFTER TRUNCATE ON "rate_decks" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "resellers_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "resellers" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "resellers_notify_truncate" AFTER TRUNCATE ON "resellers" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
