import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from 'pino';

/**
 * Channel on which the triggers of migration `change_notifications` announce every committed
 * change to the cached tables.
 */
export const CHANGES_CHANNEL = 'switchboard_changes';

/**
 * Channel on which changed AORs are announced (`{"aors":[...],"origin":"..."}`): sip-core nodes after their
 * own binding writes, the API after removing a binding. Every sip-core node reloads the AORs named.
 */
export const REGISTRATIONS_CHANNEL = 'switchboard_registrations';

/**
 * Channel on which the API asks the sip-core nodes to end a call (`{"callId":"..."}`); the node that
 * handles the call hangs it up, the others ignore it.
 */
export const CALL_CONTROL_CHANNEL = 'switchboard_call_control';

/**
 * Channel on which each sip-core worker and node announces its calls' states (payload: JSON
 * `{"origin":"...","calls":[...]}`, sip-core's `calls/shared-calls.ts`), so that every process's
 * presence watchers and live-calls list see the calls the others handle.
 */
export const CALL_STATES_CHANNEL = 'switchboard_call_states';

/**
 * Channel on which each sip-core worker and node announces the presence publications (RFC 3903) it
 * accepted, refreshed or removed (sip-core's `presence/shared-publications.ts`), so that a refresh
 * reaching another worker finds its entity tag and every worker's watchers see the document.
 */
export const PUBLICATIONS_CHANNEL = 'switchboard_publications';

/**
 * Channel on which a sip-core node announces that it queued an instant message for a recipient without a
 * device (payload: the recipient's subscriber id). Every node then sends the queue when that recipient
 * registers a device, wherever the REGISTER arrives.
 */
export const MESSAGES_CHANNEL = 'switchboard_messages';

/**
 * Channel on which the rater announces what its batch added to customers' spending (payload: a JSON
 * array of `{ c: customerId, m: 'YYYY-MM', d: micros }`, the change per customer and UTC month of the
 * calls' start). sip-core keeps the running totals its credit limits check against in memory.
 */
export const RATED_CHANNEL = 'switchboard_rated';

/** Tables whose changes are announced on `CHANGES_CHANNEL`. */
export type ChangedTable =
  | 'customers'
  | 'domains'
  | 'subscribers'
  | 'numbers'
  | 'call_forwards'
  | 'call_forward_destinations'
  | 'hunt_groups'
  | 'hunt_group_members'
  | 'auto_attendants'
  | 'auto_attendant_options'
  | 'rewrite_rule_sets'
  | 'rewrite_rules'
  | 'peering_groups'
  | 'peer_gateways'
  | 'peering_rules'
  | 'ip_bans'
  | 'push_credentials'
  | 'settings'
  | 'resellers'
  | 'billing_profiles'
  | 'billing_peak_times'
  | 'rate_decks'
  | 'customer_billing_settings'
  | 'customer_trunks'
  /** Its `id` is the box's subscriber, not the message (migration 20261205060000_voicemail). */
  | 'voicemail_messages'
  | 'credit_accounts'
  | 'subscriber_spend_limits';

/** Payload of one notification on `CHANGES_CHANNEL`. */
export interface TableChange {
  /** Database table name (snake_case), e.g. `numbers`. */
  table: ChangedTable;
  op: 'insert' | 'update' | 'delete' | 'truncate';
  /** Primary key of the changed row; null for `truncate`. */
  id: string | null;
}

const OPS = new Set(['insert', 'update', 'delete', 'truncate']);

/** Parses a `CHANGES_CHANNEL` payload; returns undefined for anything malformed. */
export function parseTableChange(payload: string): TableChange | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { table, op, id } = value as Record<string, unknown>;
  if (typeof table !== 'string' || typeof op !== 'string' || !OPS.has(op)) return undefined;
  if (id !== null && typeof id !== 'string') return undefined;
  return { table: table as ChangedTable, op: op as TableChange['op'], id };
}

export type ChangeHandler = (payload: string) => void;

export interface ChangeSubscription {
  stop(): Promise<void>;
}

/** Quotes a channel name as an SQL identifier (LISTEN does not take parameters). */
function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.length > 63)
    throw new RangeError(`invalid channel name: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** Calls the handler without letting its exceptions reach the database client. */
function deliver(handler: ChangeHandler, payload: string, log: Logger, channel: string): void {
  try {
    handler(payload);
  } catch (error) {
    log.error({ err: error, channel }, 'change handler threw');
  }
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to other queries). When the
 * connection drops, reconnects with capped exponential backoff until stopped, and then calls
 * `onReconnect` so the listener can reload what it may have missed.
 */
export async function listenPostgres(
  databaseUrl: string,
  channel: string,
  handler: ChangeHandler,
  log: Logger,
  onReconnect?: () => void,
): Promise<ChangeSubscription> {
  const listenSql = `LISTEN ${quoteIdentifier(channel)}`;
  let client: pg.Client | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = RECONNECT_MIN_MS;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on('notification', (message) => {
      if (message.channel === channel) deliver(handler, message.payload ?? '', log, channel);
    });
    next.on('error', (error) => {
      log.warn({ err: error, channel }, 'change listener connection failed');
    });
    next.on('end', () => {
      if (stopped || client !== next) return;
      client = undefined;
      scheduleReconnect();
    });
    await next.connect();
    try {
      await next.query(listenSql);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
  };

  const scheduleReconnect = (): void => {
    if (stopped) return;
    retryTimer = setTimeout(async () => {
      retryTimer = undefined;
      try {
        await connect();
        if (stopped) {
          await client?.end().catch(() => undefined);
          return;
        }
        delay = RECONNECT_MIN_MS;
        log.info({ channel }, 'change listener reconnected');
        onReconnect?.();
      } catch (error) {
        log.warn({ err: error, channel, retryInMs: delay }, 'change listener reconnect failed');
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        scheduleReconnect();
      }
    }, delay);
  };

  await connect();
  return {
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}

/** PGlite delivers NOTIFY within the process once the notifying transaction commits. */
export async function listenPglite(
  db: PGlite,
  channel: string,
  handler: ChangeHandler,
  log: Logger,
): Promise<ChangeSubscription> {
  // PGlite quotes nothing itself: pass the identifier as LISTEN needs it.
  const unlisten = await db.listen(quoteIdentifier(channel), (payload) =>
    deliver(handler, payload, log, channel),
  );
  return {
    async stop() {
      await unlisten().catch(() => undefined);
    },
  };
}
