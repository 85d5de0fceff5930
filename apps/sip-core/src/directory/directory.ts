import { type PrismaClient, type RecordingMode, readInPages, type SrtpPolicy } from '@switchboard/db';
import { LruMap } from '@switchboard/sip';
import type { Logger } from 'pino';
import { packHa1 } from './ha1.ts';

/** The part of a subscriber the registrar needs, kept in memory. */
export interface CachedSubscriber {
  id: string;
  username: string;
  domain: string;
  domainId: string;
  customerId: string;
  /** `active` subscribers of an `active` customer may register; anything else is refused like a bad password. */
  enabled: boolean;
  /** Its MD5 and SHA-256 HA1 values packed into one string (`directory/ha1.ts`); read with `ha1Hex`. */
  ha1: string;
  /** The subscriber's concurrent-call limit (null: none), checked per call from here (calls/party.ts). */
  maxConcurrentCalls: number | null;
  /** Its customer's limits, refreshed with the customer (`onCustomerChanged`). */
  customer: {
    maxConcurrentCalls: number | null;
    maxCallDuration: number | null;
    maxCallsPerSecond?: number | null;
    /** Call recording default of its subscribers, and the announcement (docs/pbx.md). */
    recordingMode?: RecordingMode;
    recordingAnnouncement?: boolean;
  };
  /** SDES-SRTP on its call legs (calls/leg-profile.ts), read per call from here. */
  srtp: SrtpPolicy;
  /** Its own call recording mode; unset: its customer's. */
  recordingMode?: RecordingMode | undefined;
}

const SUBSCRIBER_SELECT = {
  id: true,
  username: true,
  domainId: true,
  customerId: true,
  status: true,
  ha1Md5: true,
  ha1Sha256: true,
  maxConcurrentCalls: true,
  srtp: true,
  recordingMode: true,
  customer: {
    select: {
      status: true,
      maxConcurrentCalls: true,
      maxCallDuration: true,
      maxCallsPerSecond: true,
      recordingMode: true,
      recordingAnnouncement: true,
    },
  },
} as const;

const DOMAIN_SELECT = {
  id: true,
  name: true,
  transcodeCodecs: true,
  voicemailAccessCode: true,
  upstreamGateway: { select: { id: true, host: true, port: true, transport: true } },
} as const;

/** The PBX a fronted domain's phones register to and call through (docs/sbc.md, "Fronting a PBX"). */
export interface UpstreamPbx {
  gatewayId: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
}

function upstreamOf(row: {
  upstreamGateway: { id: string; host: string; port: number; transport: string } | null;
}): UpstreamPbx | undefined {
  const gateway = row.upstreamGateway;
  if (!gateway) return undefined;
  const transport = gateway.transport === 'tcp' || gateway.transport === 'tls' ? gateway.transport : 'udp';
  return { gatewayId: gateway.id, host: gateway.host, port: gateway.port, transport };
}

interface SubscriberRow {
  id: string;
  username: string;
  domainId: string;
  customerId: string;
  status: string;
  ha1Md5: string;
  ha1Sha256: string;
  maxConcurrentCalls: number | null;
  srtp: SrtpPolicy;
  recordingMode: RecordingMode | null;
  customer: {
    status: string;
    maxConcurrentCalls: number | null;
    maxCallDuration: number | null;
    maxCallsPerSecond: number | null;
    recordingMode: RecordingMode;
    recordingAnnouncement: boolean;
  };
}

/**
 * Another index of the process that holds subscribers' id and username strings (the numbering
 * index), so that the directory shares them rather than keeping copies of its own.
 */
export type SubscriberStrings = (
  id: string,
) => { readonly id: string; readonly username: string } | undefined;

/**
 * How long a username (or a domain) found in no table is answered from memory before the database is
 * asked again.
 */
const MISS_TTL_MS = 10_000;
/** Misses remembered at most (oldest forgotten first), so random usernames cannot grow memory. */
const MAX_MISSES = 10_000;

/**
 * Domains we serve and their subscribers (with their and their customer's call limits), held in
 * memory so that neither a REGISTER nor a call costs a database round trip. Loaded at start and kept current from the database change feed (`onDomainChanged`,
 * `onSubscriberChanged`, `onCustomerChanged`: a customer's status is part of each of its
 * subscribers' `enabled`); `load()` again after the feed reconnects, since changes made meanwhile
 * were not announced. A subscriber the cache does not hold yet (created a moment ago, its change
 * still on the way) is read from the database once by `lookup`, then cached.
 */
export class Directory {
  private domainsById = new Map<string, string>();
  private domainIds = new Map<string, string>();
  /** Each domain's `transcodeCodecs`: what a browser's offer towards a SIP leg gets added. */
  private transcodeByDomainId = new Map<string, string[]>();
  /** Domains with a voicemail access code of their own, by id. */
  private accessCodeByDomainId = new Map<string, string>();
  /** Fronted domains by lower-case name: their upstream PBX. */
  private upstreamByDomain = new Map<string, UpstreamPbx>();
  private subscribersById = new Map<string, CachedSubscriber>();
  /**
   * Domain (lower-case) -> username -> subscriber. Nested rather than keyed by `user@domain`: the
   * username is the subscriber's own string, where a joined key was one more string per subscriber
   * (two, since V8 keeps a joined string and its flat copy).
   */
  private subscribersByDomain = new Map<string, Map<string, CachedSubscriber>>();
  /** Keys the database did not have either, with when to ask again (epoch ms); the oldest go first. */
  private misses = new LruMap<string, number>(MAX_MISSES);
  /** Customers' limits, one object per customer, shared by its subscribers (see `toCached`). */
  private limits = new Map<string, CachedSubscriber['customer']>();
  /** Domain and customer ids, one string each (see `shared`). */
  private readonly ids = new Map<string, string>();
  /** While `load` reads its pages: the subscribers changed meanwhile, read again after it. */
  private loading: Set<string> | undefined;
  private loadsInFlight = 0;
  /** Database reads in flight by key: concurrent lookups of one user share one read. */
  private readonly reads = new Map<string, Promise<CachedSubscriber | undefined>>();
  /** Database reads of domains not in memory, in flight by lower-case name. */
  private readonly domainReads = new Map<string, Promise<boolean>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
    private readonly sharedStrings?: SubscriberStrings,
  ) {}

  async load(): Promise<void> {
    this.loading ??= new Set();
    this.loadsInFlight++;
    try {
      const domains = await this.prisma.domain.findMany({ select: DOMAIN_SELECT });
      const domainsById = new Map(domains.map((d) => [d.id, d.name.toLowerCase()]));
      const loaded: CachedSubscriber[] = [];
      // Built aside and swapped in at once: a request during the load sees the old directory whole.
      this.limits = new Map();
      this.ids.clear();
      await readInPages(
        (after, take) =>
          this.prisma.subscriber.findMany({
            select: SUBSCRIBER_SELECT,
            ...(after === undefined ? {} : { where: { id: { gt: after } } }),
            orderBy: { id: 'asc' },
            take,
          }),
        (row) => {
          const subscriber = this.toCached(row, domainsById);
          if (subscriber) loaded.push(subscriber);
        },
      );
      this.domainsById = domainsById;
      this.domainIds = new Map(domains.map((d) => [d.name.toLowerCase(), d.id]));
      this.transcodeByDomainId = new Map(domains.map((d) => [d.id, d.transcodeCodecs]));
      this.accessCodeByDomainId = new Map(
        domains.flatMap((d) => (d.voicemailAccessCode ? [[d.id, d.voicemailAccessCode] as const] : [])),
      );
      this.upstreamByDomain = new Map();
      for (const d of domains) {
        const upstream = upstreamOf(d);
        if (upstream) this.upstreamByDomain.set(d.name.toLowerCase(), upstream);
      }
      this.subscribersById = new Map();
      this.subscribersByDomain = new Map();
      this.misses = new LruMap(MAX_MISSES);
      for (const subscriber of loaded) this.index(subscriber);
      this.log.info({ domains: domains.length, subscribers: loaded.length }, 'directory loaded');
    } finally {
      // Subscribers changed while the pages were read may be older in what was loaded: read them again.
      this.loadsInFlight--;
      const changed = this.loadsInFlight === 0 ? this.loading : undefined;
      if (changed) {
        this.loading = undefined;
        for (const id of changed) await this.onSubscriberChanged(id);
      }
    }
  }

  /** True when `host` (case-insensitive) is one of our SIP domains. */
  /** The upstream PBX of a fronted domain; undefined: the platform is the domain's registrar. */
  upstreamPbx(host: string): UpstreamPbx | undefined {
    return this.upstreamByDomain.get(host.toLowerCase());
  }

  servesDomain(host: string): boolean {
    return this.domainIds.has(host.toLowerCase());
  }

  /**
   * `servesDomain`, and on a miss the database once: a domain created a moment ago, whose change is
   * still on the way, is served from the first REGISTER (refused 403, baresip tries again only a
   * minute later). A name the database does not have either is remembered like a missed username.
   */
  async lookupDomain(host: string): Promise<boolean> {
    const name = host.toLowerCase();
    if (this.domainIds.has(name)) return true;
    const k = key('', name);
    const retryAt = this.misses.get(k);
    if (retryAt !== undefined && retryAt > Date.now()) return false;
    let read = this.domainReads.get(name);
    if (read === undefined) {
      read = this.prisma.domain
        .findFirst({ where: { name: { equals: name, mode: 'insensitive' } }, select: { id: true } })
        .then(async (row) => {
          if (row) await this.onDomainChanged(row.id);
          else this.rememberMiss(k);
          return this.domainIds.has(name);
        })
        .catch((error: unknown) => {
          // The database unreachable: not served, as before the read, and not asked again per request.
          this.log.warn({ err: error, domain: name }, 'domain lookup failed');
          this.rememberMiss(k);
          return false;
        })
        .finally(() => this.domainReads.delete(name));
      this.domainReads.set(name, read);
    }
    return read;
  }

  /**
   * The codecs the relay adds to a browser's offer towards SIP legs for callers of this domain
   * (`transcodeCodecs`; empty: none); undefined for a domain not known here (the relay's default).
   */
  transcodeCodecs(domainId: string): string[] | undefined {
    return this.transcodeByDomainId.get(domainId);
  }

  /** What the domain's subscribers dial for their voicemail; undefined: the platform's code. */
  voicemailAccessCode(domainId: string): string | undefined {
    return this.accessCodeByDomainId.get(domainId);
  }

  get domainCount(): number {
    return this.domainIds.size;
  }

  findSubscriber(username: string, domain: string): CachedSubscriber | undefined {
    return this.subscribersByDomain.get(domain.toLowerCase())?.get(username);
  }

  /**
   * The subscriber from memory or, on a miss, from the database (one read, shared by concurrent
   * lookups, then cached; a user the database does not have either is remembered for a few seconds,
   * so guessed names cost one read each, not one per request).
   */
  async lookup(username: string, domain: string): Promise<CachedSubscriber | undefined> {
    return this.findSubscriber(username, domain) ?? this.read(username, domain, false);
  }

  /**
   * Reads one subscriber from the database now, whatever the cache holds: credentials that fail
   * against the cached HA1 may be right against a password changed a moment ago. Rate-bounded like a
   * miss: one read per user per few seconds.
   */
  async reload(username: string, domain: string): Promise<CachedSubscriber | undefined> {
    return this.read(username, domain, true);
  }

  private read(username: string, domain: string, force: boolean): Promise<CachedSubscriber | undefined> {
    const k = key(username, domain);
    const domainId = this.domainIds.get(domain.toLowerCase());
    const retryAt = this.misses.get(k);
    if (domainId === undefined || (retryAt !== undefined && retryAt > Date.now()))
      return Promise.resolve(this.findSubscriber(username, domain));
    const pending = this.reads.get(k);
    if (pending) return pending;
    const read = this.prisma.subscriber
      .findFirst({ where: { username, domainId }, select: SUBSCRIBER_SELECT })
      .then((row) => {
        if (row) this.putSubscriber(row);
        else {
          const old = this.findSubscriber(username, domain);
          if (old) this.removeSubscriber(old.id);
        }
        // A forced read counts as a miss too: a guesser's wrong passwords cost one read per window.
        if (!row || force) this.rememberMiss(k);
        return this.findSubscriber(username, domain);
      })
      .finally(() => this.reads.delete(k));
    this.reads.set(k, read);
    return read;
  }

  private rememberMiss(k: string): void {
    this.misses.set(k, Date.now() + MISS_TTL_MS);
  }

  subscriberById(id: string): CachedSubscriber | undefined {
    return this.subscribersById.get(id);
  }

  async onDomainChanged(id: string | null): Promise<void> {
    // A renamed or removed domain changes the key of all its subscribers: reload everything.
    if (id === null || this.domainsById.has(id)) return this.load();
    const row = await this.prisma.domain.findUnique({ where: { id }, select: DOMAIN_SELECT });
    if (!row) return;
    this.domainsById.set(row.id, row.name.toLowerCase());
    this.domainIds.set(row.name.toLowerCase(), row.id);
    this.transcodeByDomainId.set(row.id, row.transcodeCodecs);
    if (row.voicemailAccessCode) this.accessCodeByDomainId.set(row.id, row.voicemailAccessCode);
    const upstream = upstreamOf(row);
    if (upstream) this.upstreamByDomain.set(row.name.toLowerCase(), upstream);
  }

  async onSubscriberChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    this.loading?.add(id);
    const row = await this.prisma.subscriber.findUnique({ where: { id }, select: SUBSCRIBER_SELECT });
    if (row) await this.learnDomainsOf([row]);
    this.removeSubscriber(id);
    if (row) this.putSubscriber(row);
  }

  /**
   * Reads the domains of `rows` this directory has not heard of yet. The feed's changes are applied
   * side by side, so a new subscriber's row can be read before its new domain's: without its domain it
   * would be left out of the directory (and unknown to routing until it registered).
   */
  private async learnDomainsOf(rows: SubscriberRow[]): Promise<void> {
    const unknown = new Set(rows.map((row) => row.domainId).filter((id) => !this.domainsById.has(id)));
    for (const domainId of unknown) await this.onDomainChanged(domainId);
  }

  /**
   * A customer changed (e.g. locked or terminated): its subscribers are refreshed, so that they
   * are refused (or accepted again) from the next request on, without a restart.
   */
  async onCustomerChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const rows = await this.prisma.subscriber.findMany({
      where: { customerId: id },
      select: SUBSCRIBER_SELECT,
    });
    await this.learnDomainsOf(rows);
    const read = new Set(rows.map((row) => row.id));
    // A subscriber of the customer that this read did not return was deleted or moved, or was added
    // after the read and applied meanwhile (the feed applies changes side by side): its own row says
    // which. Dropping it on this read's word lost a new subscriber until it registered.
    const unseen = [...this.subscribersById.values()]
      .filter((subscriber) => subscriber.customerId === id && !read.has(subscriber.id))
      .map((subscriber) => subscriber.id);
    for (const row of rows) {
      this.removeSubscriber(row.id);
      this.putSubscriber(row);
    }
    for (const subscriberId of unseen) await this.onSubscriberChanged(subscriberId);
  }

  private putSubscriber(row: SubscriberRow): void {
    const subscriber = this.toCached(row, this.domainsById);
    if (subscriber) this.index(subscriber);
  }

  /**
   * The cached form of a row. The strings many subscribers share (domain and customer ids) and the
   * customer's limits are one object per customer rather than a copy per subscriber: at a million
   * subscribers the copies would cost a hundred megabytes.
   */
  private toCached(row: SubscriberRow, domainsById: Map<string, string>): CachedSubscriber | undefined {
    const domain = domainsById.get(row.domainId);
    if (!domain) return undefined;
    const known = this.sharedStrings?.(row.id);
    return {
      id: known?.id ?? row.id,
      // The other index may hold an older username (a rename it has not heard of yet): only an equal one is shared.
      username: known?.username === row.username ? known.username : row.username,
      domain,
      domainId: this.shared(row.domainId),
      customerId: this.shared(row.customerId),
      enabled: row.status === 'active' && row.customer.status === 'active',
      ha1: packHa1(row.ha1Md5, row.ha1Sha256),
      maxConcurrentCalls: row.maxConcurrentCalls,
      customer: this.customerLimits(row.customerId, row.customer),
      srtp: row.srtp,
      ...(row.recordingMode ? { recordingMode: row.recordingMode } : {}),
    };
  }

  /** One string instance per distinct id (the id of a domain or customer repeats per subscriber). */
  private shared(id: string): string {
    const known = this.ids.get(id);
    if (known !== undefined) return known;
    this.ids.set(id, id);
    return id;
  }

  private customerLimits(id: string, customer: SubscriberRow['customer']): CachedSubscriber['customer'] {
    const known = this.limits.get(id);
    if (
      known &&
      known.maxConcurrentCalls === customer.maxConcurrentCalls &&
      known.maxCallDuration === customer.maxCallDuration &&
      known.maxCallsPerSecond === customer.maxCallsPerSecond &&
      known.recordingMode === customer.recordingMode &&
      known.recordingAnnouncement === customer.recordingAnnouncement
    )
      return known;
    const limits = {
      maxConcurrentCalls: customer.maxConcurrentCalls,
      maxCallDuration: customer.maxCallDuration,
      maxCallsPerSecond: customer.maxCallsPerSecond,
      recordingMode: customer.recordingMode,
      recordingAnnouncement: customer.recordingAnnouncement,
    };
    this.limits.set(id, limits);
    return limits;
  }

  private index(subscriber: CachedSubscriber): void {
    this.subscribersById.set(subscriber.id, subscriber);
    let users = this.subscribersByDomain.get(subscriber.domain);
    if (!users) {
      users = new Map();
      this.subscribersByDomain.set(subscriber.domain, users);
    }
    users.set(subscriber.username, subscriber);
    if (this.misses.size > 0) this.misses.delete(key(subscriber.username, subscriber.domain));
  }

  private removeSubscriber(id: string): void {
    const old = this.subscribersById.get(id);
    if (!old) return;
    this.subscribersById.delete(id);
    this.subscribersByDomain.get(old.domain)?.delete(old.username);
  }
}

function key(username: string, domain: string): string {
  return `${username}@${domain.toLowerCase()}`;
}
