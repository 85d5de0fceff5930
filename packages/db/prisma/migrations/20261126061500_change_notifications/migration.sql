-- Change notifications for the tables that running components cache (number index, routing,
-- registrar, bans). Every committed change sends one NOTIFY on the channel `switchboard_changes`
-- with the payload {"table": "<table>", "op": "insert" | "update" | "delete" | "truncate", "id": "<uuid>"}
-- ("id" is null for truncate). Listeners reload what changed; NOTIFY is delivered at commit, so a
-- rolled-back change is never announced. Prisma does not model triggers, so schema.prisma does
-- not mention them and later migrations generated from it leave them alone.

-- CreateFunction
CREATE FUNCTION "switchboard_notify_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', 'truncate', 'id', NULL)::text);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', 'delete', 'id', OLD."id")::text);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('switchboard_changes', json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP), 'id', NEW."id")::text);
    RETURN NEW;
END;
$$;

-- CreateTriggers
CREATE TRIGGER "domains_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "domains" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "domains_notify_truncate" AFTER TRUNCATE ON "domains" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "subscribers_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "subscribers" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "subscribers_notify_truncate" AFTER TRUNCATE ON "subscribers" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "numbers_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "numbers" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "numbers_notify_truncate" AFTER TRUNCATE ON "numbers" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "call_forwards_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "call_forwards" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "call_forwards_notify_truncate" AFTER TRUNCATE ON "call_forwards" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "call_forward_destinations_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "call_forward_destinations" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "call_forward_destinations_notify_truncate" AFTER TRUNCATE ON "call_forward_destinations" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "rewrite_rule_sets_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "rewrite_rule_sets" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "rewrite_rule_sets_notify_truncate" AFTER TRUNCATE ON "rewrite_rule_sets" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "rewrite_rules_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "rewrite_rules" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "rewrite_rules_notify_truncate" AFTER TRUNCATE ON "rewrite_rules" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peering_groups_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "peering_groups" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peering_groups_notify_truncate" AFTER TRUNCATE ON "peering_groups" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peer_gateways_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "peer_gateways" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peer_gateways_notify_truncate" AFTER TRUNCATE ON "peer_gateways" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peering_rules_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "peering_rules" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "peering_rules_notify_truncate" AFTER TRUNCATE ON "peering_rules" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
-- Only changes that matter to the ban list: hit counters are bumped per blocked request and
-- must not wake every listener.
CREATE TRIGGER "ip_bans_notify_change" AFTER INSERT OR DELETE OR UPDATE OF "address", "expires_at" ON "ip_bans" FOR EACH ROW EXECUTE FUNCTION "switchboard_notify_change"();
CREATE TRIGGER "ip_bans_notify_truncate" AFTER TRUNCATE ON "ip_bans" FOR EACH STATEMENT EXECUTE FUNCTION "switchboard_notify_change"();
