import { Prisma, type SqlSession } from '@switchboard/db';
import { randomInto } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { Binding } from './binding.ts';

/** One binding's latest change not yet in the table: the binding to store, or null to delete it. */
export interface UnwrittenChange {
  aor: string;
  bindingKey: string;
  binding: Binding | null;
}

export interface BindingWriterOptions {
  /**
   * Milliseconds a change may wait before it is written, so that the changes of many REGISTERs go
   * into one statement. 0: written through (at the next turn of the event loop, group-committed),
   * and `write` resolves only once committed.
   */
  windowMs: number;
  log: Logger;
  /** Rows per statement at most. */
  maxBatch?: number;
  /** Called after each commit with the AORs it contained. */
  onCommitted(aors: string[]): void;
}

/** After a failed statement the next attempt waits this long, doubling up to the maximum. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

/**
 * Writes binding changes to the `registrations` table behind the registrar's answers.
 *
 * Durability rule: a change is in memory (and answered) at once and in the table at most
 * `windowMs` later (plus the time of the statement itself). Changes to one binding collapse into
 * the latest, and each flush is one statement for all of them: a multi-row
 * `INSERT ... ON CONFLICT DO UPDATE`, with the removals as a `DELETE` in the same statement.
 * `close()` writes everything still waiting, so a clean shutdown loses nothing; a crash loses at
 * most the changes of the last window, and a device whose change was lost is back at its next
 * refresh. A statement that fails is retried with backoff, the changes staying queued (a newer
 * change to the same binding replaces the queued one).
 */
export class BindingWriter {
  /** Latest change per binding, not yet handed to a statement. */
  private pending = new Map<string, UnwrittenChange>();
  /** Changes in the statement now running. */
  private inFlight = new Map<string, UnwrittenChange>();
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private retryMs = 0;
  private closed = false;
  private readonly maxBatch: number;

  /**
   * `sql`: the database driver. The statement is built with Prisma's SQL template but not run through
   * Prisma's raw query, which copies its parameters through JSON.stringify and JSON.parse: for the
   * batch's one JSON parameter (hundreds of KB at 1000 rows) that was 2.9 % of the registrar's CPU.
   */
  constructor(
    private readonly sql: SqlSession,
    private readonly options: BindingWriterOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
  }

  /** Changes of `aor` that the table does not have yet (queued or being written). */
  unwritten(aor: string): UnwrittenChange[] {
    const changes = new Map<string, UnwrittenChange>();
    for (const source of [this.inFlight, this.pending])
      for (const change of source.values()) if (change.aor === aor) changes.set(change.bindingKey, change);
    return [...changes.values()];
  }

  /** Every change the table does not have yet, the newest per binding. */
  allUnwritten(): UnwrittenChange[] {
    return [...new Map([...this.inFlight, ...this.pending]).values()];
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Queues changes; they are written within the window (write-behind: nobody waits). */
  write(upserts: Binding[], removals: Array<{ aor: string; bindingKey: string }>): void {
    for (const binding of upserts)
      this.pending.set(keyOf(binding.aor, binding.bindingKey), {
        aor: binding.aor,
        bindingKey: binding.bindingKey,
        binding,
      });
    for (const { aor, bindingKey } of removals)
      this.pending.set(keyOf(aor, bindingKey), { aor, bindingKey, binding: null });
    this.schedule();
  }

  /** Queues changes and resolves once they are committed (write-through). */
  writeAndWait(upserts: Binding[], removals: Array<{ aor: string; bindingKey: string }>): Promise<void> {
    if (upserts.length === 0 && removals.length === 0) return Promise.resolve();
    const committed = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.write(upserts, removals);
    return committed;
  }

  /**
   * Writes everything queued now, without waiting for the window, and resolves once it is
   * committed. Bounded: after 5 failed statements in a row it rejects with the last error.
   */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let failures = 0;
    try {
      while (this.flushing || this.pending.size > 0) {
        if (this.flushing) await this.flushing;
        else if (!(await this.flushNow())) {
          failures++;
          if (failures >= 5) throw new Error(`${this.pending.size} binding changes could not be written`);
        }
      }
    } finally {
      this.schedule();
    }
  }

  /** Clean shutdown: writes everything still queued and accepts nothing more on schedule. */
  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.flush();
    } catch (error) {
      this.options.log.error({ err: error, bindings: this.pending.size }, 'binding changes lost at shutdown');
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    }
  }

  private schedule(): void {
    if (this.closed || this.timer || this.flushing || this.pending.size === 0) return;
    // A full batch goes at once (unless the database is failing); otherwise wait for the window.
    const delay =
      this.retryMs > 0 ? this.retryMs : this.pending.size >= this.maxBatch ? 0 : this.options.windowMs;
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    this.timer = undefined;
    void this.flushNow().then(() => this.schedule());
  }

  /** One statement for (up to maxBatch of) the queued changes; false when it failed. */
  private async flushNow(): Promise<boolean> {
    if (this.flushing) {
      await this.flushing;
      return true;
    }
    let ok = true;
    this.flushing = this.flushOnce().then((result) => {
      ok = result;
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    return ok;
  }

  private async flushOnce(): Promise<boolean> {
    if (this.pending.size === 0) return true;
    const batch = new Map<string, UnwrittenChange>();
    for (const [key, change] of this.pending) {
      batch.set(key, change);
      this.pending.delete(key);
      if (batch.size >= this.maxBatch) break;
    }
    // Waiters registered so far are satisfied once the queue they joined is empty again.
    const waiters = this.pending.size === 0 ? this.waiters.splice(0) : [];
    this.inFlight = batch;
    try {
      const statement = changeSql([...batch.values()]);
      await this.sql.query(statement.text, statement.values);
      this.retryMs = 0;
      this.inFlight = new Map();
      for (const waiter of waiters) waiter.resolve();
      this.options.onCommitted([...new Set([...batch.values()].map((change) => change.aor))]);
      return true;
    } catch (error) {
      this.inFlight = new Map();
      // Back into the queue unless a newer change to the same binding arrived meanwhile.
      for (const [key, change] of batch) if (!this.pending.has(key)) this.pending.set(key, change);
      this.waiters.unshift(...waiters);
      this.retryMs = Math.min(Math.max(this.retryMs * 2, RETRY_MIN_MS), RETRY_MAX_MS);
      this.options.log.error(
        { err: error, bindings: batch.size, retryInMs: this.retryMs },
        'writing binding changes failed',
      );
      return false;
    }
  }
}

function keyOf(aor: string, bindingKey: string): string {
  return `${aor}\u0000${bindingKey}`;
}

/** One statement for a batch: the removals as a DELETE in a CTE, the upserts as one INSERT. */
function changeSql(changes: UnwrittenChange[]): Prisma.Sql {
  const removals = changes.filter((change) => change.binding === null);
  const upserts = changes.flatMap((change) => (change.binding ? [change.binding] : []));
  const remove =
    removals.length === 0
      ? undefined
      : Prisma.sql`DELETE FROM registrations
          WHERE (aor, binding_key) IN (SELECT * FROM unnest(${removals.map((r) => r.aor)}::text[],
            ${removals.map((r) => r.bindingKey)}::text[]))`;
  if (upserts.length === 0) return remove!;
  const insert = upsertSql(upserts);
  return remove ? Prisma.sql`WITH removed AS (${remove}) ${insert}` : insert;
}

/**
 * The registrations table's columns the registrar writes, in order: SQL type and value in a binding.
 * `path`, a list per binding, is unpacked from its JSON array.
 */
const UPSERT_COLUMNS: Array<[column: string, type: string, value: (b: Binding) => unknown]> = [
  ['id', 'uuid', () => uuidv7()],
  ['subscriber_id', 'uuid', (b) => b.subscriberId],
  ['aor', 'text', (b) => b.aor],
  ['binding_key', 'text', (b) => b.bindingKey],
  ['contact_uri', 'text', (b) => b.contactUri],
  ['received_address', 'text', (b) => b.receivedAddress],
  ['received_port', 'int', (b) => b.receivedPort],
  ['transport', '"transport"', (b) => b.transport],
  ['local_socket', 'text', (b) => b.localSocket],
  ['path', 'text[]', (b) => b.path],
  ['expires_at', 'timestamptz', (b) => new Date(b.expiresAt).toISOString()],
  ['user_agent', 'text', (b) => b.userAgent],
  ['instance_id', 'text', (b) => b.instanceId],
  ['reg_id', 'int', (b) => b.regId],
  ['q', 'float8', (b) => b.q],
  ['call_id', 'text', (b) => b.callId],
  ['cseq', 'int', (b) => b.cseq],
  ['pn_provider', 'text', (b) => b.pnProvider],
  ['pn_prid', 'text', (b) => b.pnPrid],
  ['pn_param', 'text', (b) => b.pnParam],
  ['pn_refresh', 'int', (b) => b.pnRefresh ?? null],
  ['node', 'text', (b) => b.node],
];

/** `INSERT INTO registrations (...) SELECT <each column read from the row r>`, fixed for every batch. */
const UPSERT_HEAD = Prisma.raw(
  `INSERT INTO registrations (${UPSERT_COLUMNS.map(([column]) => column).join(', ')}, updated_at)
    SELECT ${UPSERT_COLUMNS.map(([, type], i) =>
      type === 'text[]' ? `ARRAY(SELECT json_array_elements_text(r->${i}))` : `CAST(r->>${i} AS ${type})`,
    ).join(', ')}, now()`,
);

/** The update of an existing binding: every column but the key and the id. */
const UPSERT_TAIL = Prisma.raw(
  `ON CONFLICT (aor, binding_key) DO UPDATE SET ${UPSERT_COLUMNS.filter(
    ([column]) => column !== 'id' && column !== 'aor' && column !== 'binding_key',
  )
    .map(([column]) => `${column} = EXCLUDED.${column}`)
    .join(', ')}, updated_at = now()`,
);

/**
 * The upserts as one fixed statement over one JSON parameter, an array per binding: one native
 * `JSON.stringify` for the batch. An array parameter per column (`unnest`) cost the driver about 5 % of
 * the registrar's CPU escaping every element of 22 arrays; a parameter per value, 18 KB of garbage per
 * registration.
 */
function upsertSql(bindings: Binding[]): Prisma.Sql {
  const rows = JSON.stringify(bindings.map((b) => UPSERT_COLUMNS.map(([, , value]) => value(b))));
  return Prisma.sql`${UPSERT_HEAD} FROM json_array_elements(${rows}::json) AS r ${UPSERT_TAIL}`;
}

/** A time-ordered UUID (RFC 9562 version 7), like the schema's other primary keys. */
export function uuidv7(): string {
  const bytes = Buffer.allocUnsafe(16);
  randomInto(bytes, 0, 16);
  bytes.writeUIntBE(Date.now(), 0, 6); // 48-bit big-endian milliseconds, without BigInt's allocations
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
