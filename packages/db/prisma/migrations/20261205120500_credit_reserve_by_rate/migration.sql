-- The call-time reservation gets the rate instead of a charge per billable step
-- (docs/billing.md, "Prepaid"; docs/performance.md, "Billing"): sip-core used to compute and send the
-- charge of every step up to the seconds it reserves (600 for a 1/1 rate), which made the in-memory
-- part of an authorisation grow with the steps. The longest affordable duration is now computed in
-- closed form, by `switchboard_affordable_seconds`, the same arithmetic as `affordableSeconds`
-- (apps/api/src/billing/credit/allowance.ts); apps/api/test/credit-reserve.test.ts checks the two
-- agree for many rates, budgets and durations.
--
-- Charging (the rater's, rate-cdr.ts): billed = first interval, then whole next intervals; charge =
-- setup + floor((billed x per-minute + 30) / 60), all in millionths. The charge fits a budget B when
-- billed x per-minute <= 60 (B - setup) + 29, so the longest billed duration on the interval grid is
-- first + floor((floor((60 (B - setup) + 29) / per-minute) - first) / next) x next. The wanted duration
-- itself is taken when its own billed duration fits.

-- CreateFunction
CREATE FUNCTION "switchboard_affordable_seconds"(
    p_budget numeric, p_setup bigint, p_per_minute bigint, p_first integer, p_next integer, p_want integer)
RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_budget <= 0 OR p_want <= 0 THEN 0
        -- The whole wanted duration fits (also every duration when the rate is 0).
        WHEN p_setup + div(w.billed * p_per_minute + 30, 60) <= p_budget THEN p_want
        WHEN p_budget < p_setup OR p_per_minute <= 0 THEN 0
        ELSE (SELECT CASE WHEN m.longest < p_first THEN 0
                          ELSE p_first + div(m.longest - p_first, p_next)::integer * p_next END
              FROM (SELECT div(60 * (p_budget - p_setup) + 29, p_per_minute) AS longest) m)
    END
    FROM (SELECT CASE WHEN p_want <= p_first THEN p_first
                      ELSE p_first + ((p_want - p_first + p_next - 1) / p_next) * p_next END::numeric AS billed) w
$$;

-- A new overload (ten arguments) beside the one of `credit_reserve_function` (seven), which stays: a
-- sip-core node not yet upgraded keeps reserving with it until it restarts. A later migration may
-- drop the old one.

-- CreateFunction
CREATE FUNCTION "switchboard_credit_reserve"(
    p_call_id text, p_customer_id uuid, p_subscriber_id uuid, p_setup bigint, p_per_minute bigint,
    p_first integer, p_next integer, p_have integer, p_want integer, p_hold_seconds integer)
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
    v_seconds := switchboard_affordable_seconds(v_available * 1000000, p_setup, p_per_minute, p_first, p_next, p_want);
    IF v_seconds <= p_have THEN
        RETURN QUERY SELECT p_have, v_bound;
        RETURN;
    END IF;
    -- The charge of the call at v_seconds (a grid point, or the wanted duration rounded up to one).
    v_amount := (p_setup + div((CASE WHEN v_seconds <= p_first THEN p_first
        ELSE p_first + ((v_seconds - p_first + p_next - 1) / p_next) * p_next END)::numeric * p_per_minute + 30, 60))
        / 1000000.0;
    INSERT INTO credit_reservations (call_id, customer_id, subscriber_id, amount, expires_at)
        VALUES (p_call_id, p_customer_id, p_subscriber_id, v_amount, now() + make_interval(secs => v_seconds + p_hold_seconds))
        ON CONFLICT (call_id) DO UPDATE SET amount = excluded.amount, expires_at = excluded.expires_at,
            customer_id = excluded.customer_id, subscriber_id = excluded.subscriber_id;
    RETURN QUERY SELECT v_seconds, v_bound;
END;
$$;
