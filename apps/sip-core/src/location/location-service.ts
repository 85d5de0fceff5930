import { randomUUID } from 'node:crypto';
import { type Database, type PrismaClient, REGISTRATIONS_CHANNEL, readInPages } from '@switchboard/db';
import { detached } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { Binding } from './binding.ts';
import { BindingAnnouncer, isSharedBinding, parseBindingNews } from './binding-announcer.ts';
import { BindingWriter, type UnwrittenChange } from './binding-writer.ts';
import { ExpiryQueue } from './expiry-queue.ts';
import { heldOrDetached, SharedStrings } from './shared-strings.ts';

/** Channel on which changed AORs are announced (defined with the database's other channels). */
export { REGISTRATIONS_CHANNEL };

/** What a registrar decided for one AOR, given its current bindings. */
export interface BindingChange {
  /** New or refreshed bindings (matched on bindingKey). */
  upserts: Binding[];
  /** Binding keys to remove. */
  removals: string[];
}

/** Lets a planner refuse the whole request (e.g. an out-of-order CSeq) without touching anything. */
export class BindingConflict extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface LocationServiceOptions {
  nodeName: string;
  log: Logger;
  /** When several bindings exceed it, the ones expiring soonest are dropped. */
  maxBindingsPerAor?: number;
  /**
   * Milliseconds a binding change may wait in memory before it is written to the table (see
   * `BindingWriter` for the durability rule); 0: every REGISTER waits for its own commit.
   */
  writeBehindMs?: number;
  /**
   * Other sip-core workers or nodes share the table: each change is also sent to them at once, before
   * the registrar answers (see `BindingAnnouncer.share`), so that none of them misses a binding that
   * is not in the table yet.
   */
  shareAtOnce?: boolean;
  now?: () => number;
}

/** Default write-behind window: a crash loses at most this much of binding changes. */
export const DEFAULT_WRITE_BEHIND_MS = 200;

/** A change heard ahead of the table is applied again over reloads until the table has it, at most this long. */
const HEARD_MS = 10_000;

/**
 * The location service (RFC 3261 §10): bindings of every AOR, served from memory and written behind
 * (batched, at most `writeBehindMs` later) to the `registrations` table, so that they survive
 * restarts and are shared between nodes. Expiries wait in one queue with one timer (ExpiryQueue), so
 * an expired binding disappears on time without scanning anything. Changes to one AOR are serialised; after
 * the database commit the AOR is announced on `REGISTRATIONS_CHANNEL` and the other nodes reload it.
 */
export class LocationService {
  /**
   * Each AOR's bindings: the binding itself when it has one (nearly every AOR), a map by binding
   * key when it has several. A map per AOR cost some 180 bytes per binding for the common case.
   */
  private readonly byAor = new Map<string, Binding | Map<string, Binding>>();
  /** Every binding's expiry in one queue with one timer (a timer per binding cost some 400 bytes each). */
  private readonly expiries: ExpiryQueue<Binding>;
  private bindingsHeld = 0;
  /** Values that repeat across bindings, one instance each (bounded: see SharedStrings). */
  private readonly sharedStrings = new SharedStrings();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly origin = randomUUID();
  private readonly now: () => number;
  private readonly log: Logger;
  private stopped = false;
  private readonly expiredListeners: Array<(binding: Binding) => void> = [];
  private readonly elsewhereListeners: Array<(binding: Binding) => void> = [];
  private readonly changeListeners: Array<(aor: string) => void> = [];
  private readonly writer: BindingWriter;
  private readonly writeBehind: boolean;
  private readonly announcer: BindingAnnouncer;
  /**
   * Changes other processes shared ahead of the table, by AOR then binding key, until the table has them:
   * a reload of one AOR reads its own, not every change heard in the last HEARD_MS.
   */
  private readonly heard = new Map<string, Map<string, UnwrittenChange>>();

  private readonly prisma: PrismaClient;

  /** `db`: the ORM for reads and announcements, the driver for the batched binding writes. */
  constructor(
    db: Pick<Database, 'prisma' | 'sql'>,
    private readonly options: LocationServiceOptions,
  ) {
    this.prisma = db.prisma;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.expiries = new ExpiryQueue<Binding>(
      (binding) => binding.expiresAt,
      (binding) => this.bindingAt(binding.aor, binding.bindingKey) === binding,
      (binding) => this.expire(binding),
      () => this.now(),
    );
    this.writeBehind = (options.writeBehindMs ?? DEFAULT_WRITE_BEHIND_MS) > 0;
    this.announcer = new BindingAnnouncer(db.prisma, this.origin, this.log);
    this.writer = new BindingWriter(db.sql, {
      windowMs: options.writeBehindMs ?? DEFAULT_WRITE_BEHIND_MS,
      log: this.log,
      onCommitted: (aors) => this.announcer.committed(aors),
    });
  }

  /** Loads every unexpired binding from the database and forgets the expired ones. */
  async load(): Promise<void> {
    const now = new Date(this.now());
    await this.prisma.registration.deleteMany({ where: { expiresAt: { lte: now } } });
    // Read in pages and swapped in at once: a lookup during the load sees the old bindings whole.
    const loaded: Binding[] = [];
    const shared = this.sharedStrings;
    await readInPages(
      (after, take) =>
        this.prisma.registration.findMany({
          where: { expiresAt: { gt: now }, ...(after === undefined ? {} : { id: { gt: after } }) },
          orderBy: { id: 'asc' },
          take,
        }),
      (row) => loaded.push(fromRow(row, shared)),
    );
    this.clearMemory();
    for (const binding of loaded) this.putInMemory(binding);
    // Our own changes not written yet are newer than what the table says.
    this.applyUnwritten(this.writer.allUnwritten());
    this.log.info({ bindings: loaded.length, aors: this.byAor.size }, 'location service loaded');
  }

  /** Current bindings of an AOR, highest q first, then the most recently refreshed. */
  lookup(aor: string): Binding[] {
    const held = this.byAor.get(aor);
    if (!held) return [];
    const now = this.now();
    if (!(held instanceof Map)) return held.expiresAt > now ? [held] : [];
    return [...held.values()]
      .filter((binding) => binding.expiresAt > now)
      .sort((a, b) => (b.q ?? 1) - (a.q ?? 1) || b.expiresAt - a.expiresAt);
  }

  /**
   * Calls `visit` with every current binding (keep-alives, push refreshes, metrics). A callback, not
   * an iterator: at 100,000 bindings a generator's result objects were 4.5 MB of garbage per pass,
   * and the push refresher passes every 5 s, so an idle registrar never looked idle to V8's memory
   * reducer and kept the heap a burst of registrations had grown (docs/performance.md).
   */
  forEachBinding(visit: (binding: Binding) => void): void {
    this.byAor.forEach((held) => {
      if (held instanceof Map) held.forEach(visit);
      else visit(held);
    });
  }

  /** How many bindings memory holds (the registered-devices gauge, the launcher's health check). */
  get bindingCount(): number {
    return this.bindingsHeld;
  }

  /** The binding of `aor` with this key, if memory holds one. */
  private bindingAt(aor: string, bindingKey: string): Binding | undefined {
    const held = this.byAor.get(aor);
    if (held === undefined || held instanceof Map) return held?.get(bindingKey);
    return held.bindingKey === bindingKey ? held : undefined;
  }

  get aorCount(): number {
    return this.byAor.size;
  }

  /** Called with every binding that expires by its timer. */
  onExpired(listener: (binding: Binding) => void): void {
    this.expiredListeners.push(listener);
  }

  /**
   * Called with every binding another node created or refreshed, once this node has reloaded it
   * from the change feed (e.g. a woken device registered there while a call waits here).
   */
  onRegisteredElsewhere(listener: (binding: Binding) => void): void {
    this.elsewhereListeners.push(listener);
  }

  /**
   * Called with the AOR whenever its bindings in memory changed: a REGISTER, an expiry, a removal, or
   * another node's change reloaded (presence follows registrations).
   */
  onChanged(listener: (aor: string) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(aor: string): void {
    for (const listener of this.changeListeners) listener(aor);
  }

  /**
   * Changes the bindings of one AOR: `plan` sees the current bindings and returns what to change (or
   * throws `BindingConflict`). Requests for the same AOR run one after the other, so two REGISTERs
   * racing cannot both pass the CSeq check. Resolves with the AOR's bindings afterwards.
   */
  update(aor: string, plan: (current: Binding[]) => BindingChange): Promise<Binding[]> {
    const previous = this.queues.get(aor) ?? Promise.resolve();
    const run = previous.then(() => this.applyPlan(aor, plan));
    const settled = run.catch(() => undefined);
    this.queues.set(aor, settled);
    void settled.then(() => {
      if (this.queues.get(aor) === settled) this.queues.delete(aor);
    });
    return run;
  }

  /** Removes one binding (e.g. a NATed device that stopped answering keep-alives). */
  async remove(aor: string, bindingKey: string): Promise<void> {
    await this.update(aor, () => ({ upserts: [], removals: [bindingKey] }));
  }

  /**
   * Change feed: another worker or node changed bindings. Committed AORs are reloaded from the table;
   * bindings shared ahead of the table are applied at once.
   */
  async onAnnouncement(payload: string): Promise<void> {
    const news = parseBindingNews(payload);
    if (!news || news.origin === this.origin) return;
    if (Array.isArray(news.bindings) || Array.isArray(news.removed)) this.applyHeard(news);
    if (Array.isArray(news.aors))
      for (const aor of news.aors) if (typeof aor === 'string') await this.reloadAor(aor);
  }

  private applyHeard(news: { bindings?: unknown[]; removed?: unknown[] }): void {
    const changes: UnwrittenChange[] = [];
    for (const binding of news.bindings ?? [])
      if (isSharedBinding(binding))
        changes.push({ aor: binding.aor, bindingKey: binding.bindingKey, binding });
    for (const removal of news.removed ?? []) {
      const { aor, bindingKey } = (removal ?? {}) as { aor?: unknown; bindingKey?: unknown };
      if (typeof aor === 'string' && typeof bindingKey === 'string')
        changes.push({ aor, bindingKey, binding: null });
    }
    for (const change of changes) {
      const ofAor = this.heard.get(change.aor);
      if (ofAor) ofAor.set(change.bindingKey, change);
      else this.heard.set(change.aor, new Map([[change.bindingKey, change]]));
      setTimeout(() => this.forgetHeard(change), HEARD_MS).unref();
    }
    this.applyUnwritten(changes);
    for (const change of changes)
      if (change.binding) for (const listener of this.elsewhereListeners) listener(change.binding);
    for (const aor of new Set(changes.map((change) => change.aor))) this.changed(aor);
  }

  /** After a reload: the heard changes the table does not show yet are applied again. */
  private heardNotInTable(aor: string): UnwrittenChange[] {
    const pending: UnwrittenChange[] = [];
    for (const change of this.heard.get(aor)?.values() ?? []) {
      const row = this.bindingAt(aor, change.bindingKey);
      const inTable = change.binding
        ? row !== undefined && row.callId === change.binding.callId && row.cseq >= change.binding.cseq
        : row === undefined;
      if (inTable) this.forgetHeard(change);
      else pending.push(change);
    }
    return pending;
  }

  /** The heard change is in the table, or HEARD_MS passed (unless a newer one replaced it). */
  private forgetHeard(change: UnwrittenChange): void {
    const ofAor = this.heard.get(change.aor);
    if (ofAor?.get(change.bindingKey) !== change) return;
    ofAor.delete(change.bindingKey);
    if (ofAor.size === 0) this.heard.delete(change.aor);
  }

  async reloadAor(aor: string): Promise<void> {
    const rows = await this.prisma.registration.findMany({
      where: { aor, expiresAt: { gt: new Date(this.now()) } },
    });
    const held = this.byAor.get(aor);
    const before =
      held instanceof Map ? new Map(held) : new Map(held ? [[held.bindingKey, held] as const] : []);
    for (const binding of before.values()) this.dropFromMemory(binding);
    const registered: Binding[] = [];
    for (const row of rows) {
      const binding = fromRow(row);
      this.putInMemory(binding);
      const previous = before.get(binding.bindingKey);
      // A REGISTER is a new Call-ID or a higher CSeq (RFC 3261 §10.3 step 7); anything else is a
      // reload of what we knew.
      if (!previous || previous.callId !== binding.callId || previous.cseq !== binding.cseq)
        registered.push(binding);
    }
    this.applyUnwritten(this.heardNotInTable(aor));
    this.applyUnwritten(this.writer.unwritten(aor));
    for (const binding of registered) for (const listener of this.elsewhereListeners) listener(binding);
    this.changed(aor);
  }

  /** Binding changes answered but not yet in the table (write-behind). */
  get unwrittenCount(): number {
    return this.writer.allUnwritten().length;
  }

  /** Resolves once every change made so far is committed to the table. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Clean shutdown: writes every change still waiting, then forgets the bindings. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.writer.close();
    this.clearMemory();
  }

  private applyUnwritten(changes: UnwrittenChange[]): void {
    for (const change of changes) {
      if (change.binding) this.putInMemory(change.binding);
      else {
        const binding = this.bindingAt(change.aor, change.bindingKey);
        if (binding) this.dropFromMemory(binding);
      }
    }
  }

  private async applyPlan(aor: string, plan: (current: Binding[]) => BindingChange): Promise<Binding[]> {
    const current = this.lookup(aor);
    const change = plan(current);
    const removals = new Set(change.removals);
    const max = this.options.maxBindingsPerAor;
    if (max !== undefined) {
      const upsertKeys = new Set(change.upserts.map((b) => b.bindingKey));
      const kept = current.filter((b) => !removals.has(b.bindingKey) && !upsertKeys.has(b.bindingKey));
      // Over the limit, the bindings that would have expired first make room for the new ones.
      const excess = kept.length + change.upserts.length - max;
      if (excess > 0) {
        kept.sort((a, b) => a.expiresAt - b.expiresAt);
        for (const binding of kept.slice(0, excess)) removals.add(binding.bindingKey);
      }
    }
    if (change.upserts.length === 0 && removals.size === 0) return current;

    const keys = [...removals].map((bindingKey) => ({ aor, bindingKey }));
    // Written through, the answer waits for the commit and memory changes only after it; written
    // behind, nobody waits (the writer logs and retries failures itself).
    if (this.writeBehind) this.writer.write(change.upserts, keys);
    else await this.writer.writeAndWait(change.upserts, keys);

    for (const key of removals) {
      const binding = this.bindingAt(aor, key);
      if (binding) this.dropFromMemory(binding);
    }
    for (const binding of change.upserts) this.putInMemory(this.kept(binding));
    this.changed(aor);
    if (this.options.shareAtOnce) await this.announcer.share(change.upserts, keys);
    return this.lookup(aor);
  }

  /**
   * The binding as memory keeps it: its strings copied out of the REGISTER they were read from (a
   * slice of a header keeps the whole message text alive, some 800 bytes per binding), and the values
   * many bindings share (User-Agent, local socket, node, transport) as one instance each. A refresh
   * reuses the strings the index already holds for the AOR and the binding it replaces (the maps keep
   * their first key, so a fresh copy would be a second one), and a Contact URI that is the binding's
   * key (no instance id) is the key's string.
   */
  private kept(binding: Binding): Binding {
    const shared = this.sharedStrings;
    const held = this.byAor.get(binding.aor);
    const anyHeld = held instanceof Map ? held.values().next().value : held;
    const replaced =
      held instanceof Map
        ? held.get(binding.bindingKey)
        : anyHeld?.bindingKey === binding.bindingKey
          ? anyHeld
          : undefined;
    const bindingKey = heldOrDetached(binding.bindingKey, replaced?.bindingKey);
    return {
      ...binding,
      aor: heldOrDetached(binding.aor, anyHeld?.aor),
      bindingKey,
      contactUri:
        binding.contactUri === bindingKey
          ? bindingKey
          : heldOrDetached(binding.contactUri, replaced?.contactUri),
      receivedAddress: heldOrDetached(binding.receivedAddress, replaced?.receivedAddress),
      transport: shared.get(binding.transport),
      localSocket: shared.get(binding.localSocket),
      path: binding.path.length === 0 ? NO_PATH : binding.path.map(detached),
      userAgent: shared.get(binding.userAgent),
      instanceId: binding.instanceId === bindingKey ? bindingKey : detachedOrNull(binding.instanceId),
      callId: heldOrDetached(binding.callId, replaced?.callId),
      pnProvider: shared.get(binding.pnProvider),
      pnPrid: detachedOrNull(binding.pnPrid),
      pnParam: detachedOrNull(binding.pnParam),
      node: shared.get(binding.node),
    };
  }

  private putInMemory(binding: Binding): void {
    const held = this.byAor.get(binding.aor);
    // The replaced binding's queue entry goes stale: the queue asks whether an entry is still current.
    if (held === undefined) {
      this.byAor.set(binding.aor, binding);
      this.bindingsHeld++;
    } else if (held instanceof Map) {
      if (!held.has(binding.bindingKey)) this.bindingsHeld++;
      held.set(binding.bindingKey, binding);
    } else if (held.bindingKey === binding.bindingKey) {
      this.byAor.set(binding.aor, binding);
    } else {
      this.byAor.set(
        binding.aor,
        new Map([
          [held.bindingKey, held],
          [binding.bindingKey, binding],
        ]),
      );
      this.bindingsHeld++;
    }
    if (this.stopped) return;
    this.expiries.add(binding);
    this.expiries.compact(this.bindingsHeld);
  }

  private dropFromMemory(binding: Binding): void {
    const held = this.byAor.get(binding.aor);
    if (held === undefined) return;
    if (!(held instanceof Map)) {
      if (held !== binding) return;
      this.byAor.delete(binding.aor);
    } else {
      if (held.get(binding.bindingKey) !== binding) return;
      held.delete(binding.bindingKey);
      // Back to the binding itself once one is left.
      if (held.size === 1) this.byAor.set(binding.aor, held.values().next().value!);
      else if (held.size === 0) this.byAor.delete(binding.aor);
    }
    this.bindingsHeld--;
    this.expiries.compact(this.bindingsHeld);
  }

  /** RFC 3261 §10.3: a binding whose expiry passed is gone, from memory and from the table. */
  private expire(binding: Binding): void {
    if (this.bindingAt(binding.aor, binding.bindingKey) !== binding) return;
    this.dropFromMemory(binding);
    this.log.info({ aor: binding.aor, contact: binding.contactUri }, 'binding expired');
    for (const listener of this.expiredListeners) listener(binding);
    this.changed(binding.aor);
    // Conditional, so a refresh written by another node in the meantime survives.
    this.prisma.registration
      .deleteMany({
        where: { aor: binding.aor, bindingKey: binding.bindingKey, expiresAt: { lte: new Date(this.now()) } },
      })
      .catch((error: unknown) =>
        this.log.warn({ err: error, aor: binding.aor }, 'could not delete expired binding'),
      );
  }

  private clearMemory(): void {
    this.expiries.clear();
    this.byAor.clear();
    this.bindingsHeld = 0;
  }
}

/** A registrations row as the database returns it: a binding with its expiry as a timestamp. */
type RegistrationRow = Omit<Binding, 'expiresAt' | 'pnRefresh' | 'registeredAt'> & {
  expiresAt: Date;
  pnRefresh: number | null;
  updatedAt: Date;
};

const detachedOrNull = (value: string | null): string | null => (value === null ? null : detached(value));

/** The path of every binding without one: frozen, since bindings share it (nothing appends to a path). */
const NO_PATH = Object.freeze([]) as unknown as string[];

function fromRow(row: RegistrationRow, shared?: SharedStrings): Binding {
  const one = <T extends string | null>(value: T): T => (shared ? shared.get(value) : value);
  return {
    aor: row.aor,
    bindingKey: row.bindingKey,
    subscriberId: row.subscriberId,
    // The Contact URI itself when the device has no instance id: the same string then.
    contactUri: row.contactUri === row.bindingKey ? row.bindingKey : row.contactUri,
    receivedAddress: row.receivedAddress,
    receivedPort: row.receivedPort,
    transport: one(row.transport),
    localSocket: one(row.localSocket),
    path: row.path.length === 0 ? NO_PATH : row.path,
    expiresAt: row.expiresAt.getTime(),
    userAgent: one(row.userAgent),
    // Usually the binding key itself (RFC 5627 instance without reg-id): the same string then.
    instanceId: row.instanceId === row.bindingKey ? row.bindingKey : row.instanceId,
    regId: row.regId,
    q: row.q,
    callId: row.callId,
    cseq: row.cseq,
    pnProvider: one(row.pnProvider),
    pnPrid: row.pnPrid,
    pnParam: row.pnParam,
    pnRefresh: row.pnRefresh,
    node: one(row.node),
    registeredAt: row.updatedAt.getTime(),
  };
}
