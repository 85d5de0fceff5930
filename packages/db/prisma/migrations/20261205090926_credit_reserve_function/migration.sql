-- AlterTable
ALTER TABLE "credit_reservations" ADD COLUMN     "subscriber_id" UUID;

-- Call-time credit reservation in one round trip (docs/billing.md, "Prepaid" and "Fraud limits").
-- The caller computes the charge of each billable duration the call may get (`p_seconds`, and
-- `p_micros` their charges in millionths, with the rater's rounding); this function takes the longest
-- that fits.
-- The customer's credit account row is locked first: concurrent reservations of one customer queue on
-- it, and as every statement of a PL/pgSQL function takes a new snapshot, the sums read after the lock
-- see every reservation committed before it was granted. What fits is the least of
--   the prepaid balance less the other calls' reservations,
--   each customer spend limit (UTC day, month) less its spend so far and those reservations,
--   each spend limit of the subscriber less its spend so far and its other calls' reservations.
-- Returns the seconds the call's reservation covers (never fewer than `p_have`; -1 when nothing limits
-- the customer) and what bound it (`balance` or `spend-limit`).

-- CreateFunction
CREATE FUNCTION "switchboard_credit_reserve"(
    p_call_id text, p_customer_id uuid, p_subscriber_id uuid, p_seconds integer[], p_micros bigint[],
    p_have integer, p_hold_seconds integer)
RETURNS TABLE (seconds integer, bound text)
LANGUAGE plpgsql AS $$
DECLARE
    v_account record;
    v_limits record;
    v_day date := (now() AT TIME ZONE 'UTC')::date;
    v_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    v_held numeric;
    v_available numeric;
    v_bound text;
    v_room numeric;
    v_seconds integer;
    v_amount numeric;
BEGIN
    SELECT a.prepaid, a.balance, a.daily_limit, a.monthly_limit INTO v_account
        FROM credit_accounts a WHERE a.customer_id = p_customer_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT -1, NULL::text;
        RETURN;
    END IF;
    SELECT coalesce(sum(r.amount), 0) INTO v_held FROM credit_reservations r
        WHERE r.customer_id = p_customer_id AND r.expires_at > now() AND r.call_id <> p_call_id;
    IF v_account.prepaid THEN
        v_available := v_account.balance - v_held;
        v_bound := 'balance';
    END IF;
    IF v_account.daily_limit IS NOT NULL THEN
        v_room := v_account.daily_limit - v_held - coalesce((SELECT t.amount FROM spend_totals t
            WHERE t.owner_id = p_customer_id AND t.period = 'day' AND t.starts = v_day), 0);
        IF v_available IS NULL OR v_room < v_available THEN v_available := v_room; v_bound := 'spend-limit'; END IF;
    END IF;
    IF v_account.monthly_limit IS NOT NULL THEN
        v_room := v_account.monthly_limit - v_held - coalesce((SELECT t.amount FROM spend_totals t
            WHERE t.owner_id = p_customer_id AND t.period = 'month' AND t.starts = v_month), 0);
        IF v_available IS NULL OR v_room < v_available THEN v_available := v_room; v_bound := 'spend-limit'; END IF;
    END IF;
    IF p_subscriber_id IS NOT NULL THEN
        SELECT l.daily_limit, l.monthly_limit INTO v_limits
            FROM subscriber_spend_limits l WHERE l.subscriber_id = p_subscriber_id;
        IF FOUND THEN
            SELECT coalesce(sum(r.amount), 0) INTO v_held FROM credit_reservations r
                WHERE r.subscriber_id = p_subscriber_id AND r.expires_at > now() AND r.call_id <> p_call_id;
            IF v_limits.daily_limit IS NOT NULL THEN
                v_room := v_limits.daily_limit - v_held - coalesce((SELECT t.amount FROM spend_totals t
                    WHERE t.owner_id = p_subscriber_id AND t.period = 'day' AND t.starts = v_day), 0);
                IF v_available IS NULL OR v_room < v_available THEN v_available := v_room; v_bound := 'spend-limit'; END IF;
            END IF;
            IF v_limits.monthly_limit IS NOT NULL THEN
                v_room := v_limits.monthly_limit - v_held - coalesce((SELECT t.amount FROM spend_totals t
                    WHERE t.owner_id = p_subscriber_id AND t.period = 'month' AND t.starts = v_month), 0);
                IF v_available IS NULL OR v_room < v_available THEN v_available := v_room; v_bound := 'spend-limit'; END IF;
            END IF;
        END IF;
    END IF;
    IF v_available IS NULL THEN
        RETURN QUERY SELECT -1, NULL::text;
        RETURN;
    END IF;
    SELECT c.s, c.micros / 1000000.0 INTO v_seconds, v_amount
        FROM unnest(p_seconds, p_micros) AS c(s, micros)
        WHERE v_available > 0 AND c.micros <= v_available * 1000000 ORDER BY c.s DESC LIMIT 1;
    IF v_seconds IS NULL OR v_seconds <= p_have THEN
        RETURN QUERY SELECT p_have, v_bound;
        RETURN;
    END IF;
    INSERT INTO credit_reservations (call_id, customer_id, subscriber_id, amount, expires_at)
        VALUES (p_call_id, p_customer_id, p_subscriber_id, v_amount, now() + make_interval(secs => v_seconds + p_hold_seconds))
        ON CONFLICT (call_id) DO UPDATE SET amount = excluded.amount, expires_at = excluded.expires_at,
            customer_id = excluded.customer_id, subscriber_id = excluded.subscriber_id;
    RETURN QUERY SELECT v_seconds, v_bound;
END;
$$;
