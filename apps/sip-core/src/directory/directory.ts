import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';

/** The part of a subscriber the registrar needs, kept in memory. */
export interface CachedSubscriber {
  id: string;
  username: string;
  domain: string;
  domainId: string;
  customerId: string;
  /** `active` subscribers of an `active` customer may register; anything else is refused like a bad password. */
  enabled: boolean;
  ha1Md5: string;
  ha1Sha256: string;
}

const SUBSCRIBER_SELECT = {
  id: true,
  username: true,
  domainId: true,
  customerId: true,
  status: true,
  ha1Md5: true,
  ha1Sha256: true,
  customer: { select: { status: true } },
} as const;

interface SubscriberRow {
  id: string;
  username: string;
  domainId: string;
  customerId: string;
  status: string;
  ha1Md5: string;
  ha1Sha256: string;
  customer: { status: string };
}

/**
 * Domains we serve and their subscribers, held in memory so that a REGISTER costs no database
 * round trip. Loaded at start and kept current from the database change feed (`onDomainChanged`,
 * `onSubscriberChanged`, `onCustomerChanged`: a customer's status is part of each of its
 * subscribers' `enabled`); `load()` again after the feed reconnects, since changes made meanwhile
 * were not announced.
 */
export class Directory {
  private domainsById = new Map<string, string>();
  private domainIds = new Map<string, string>();
  private subscribersById = new Map<string, CachedSubscriber>();
  private subscribersByKey = new Map<string, CachedSubscriber>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    const [domains, subscribers] = await Promise.all([
      this.prisma.domain.findMany({ select: { id: true, name: true } }),
      this.prisma.subscriber.findMany({ select: SUBSCRIBER_SELECT }),
    ]);
    this.domainsById = new Map(domains.map((d) => [d.id, d.name.toLowerCase()]));
    this.domainIds = new Map(domains.map((d) => [d.name.toLowerCase(), d.id]));
    this.subscribersById = new Map();
    this.subscribersByKey = new Map();
    for (const row of subscribers) this.putSubscriber(row);
    this.log.info({ domains: domains.length, subscribers: subscribers.length }, 'directory loaded');
  }

  /** True when `host` (case-insensitive) is one of our SIP domains. */
  servesDomain(host: string): boolean {
    return this.domainIds.has(host.toLowerCase());
  }

  get domainCount(): number {
    return this.domainIds.size;
  }

  findSubscriber(username: string, domain: string): CachedSubscriber | undefined {
    return this.subscribersByKey.get(key(username, domain));
  }

  subscriberById(id: string): CachedSubscriber | undefined {
    return this.subscribersById.get(id);
  }

  async onDomainChanged(id: string | null): Promise<void> {
    // A renamed or removed domain changes the key of all its subscribers: reload everything.
    if (id === null || this.domainsById.has(id)) return this.load();
    const row = await this.prisma.domain.findUnique({ where: { id }, select: { id: true, name: true } });
    if (!row) return;
    this.domainsById.set(row.id, row.name.toLowerCase());
    this.domainIds.set(row.name.toLowerCase(), row.id);
  }

  async onSubscriberChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const row = await this.prisma.subscriber.findUnique({ where: { id }, select: SUBSCRIBER_SELECT });
    this.removeSubscriber(id);
    if (row) this.putSubscriber(row);
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
    for (const subscriber of [...this.subscribersById.values()])
      if (subscriber.customerId === id) this.removeSubscriber(subscriber.id);
    for (const row of rows) this.putSubscriber(row);
  }

  private putSubscriber(row: SubscriberRow): void {
    const domain = this.domainsById.get(row.domainId);
    if (!domain) return;
    const subscriber: CachedSubscriber = {
      id: row.id,
      username: row.username,
      domain,
      domainId: row.domainId,
      customerId: row.customerId,
      enabled: row.status === 'active' && row.customer.status === 'active',
      ha1Md5: row.ha1Md5,
      ha1Sha256: row.ha1Sha256,
    };
    this.subscribersById.set(row.id, subscriber);
    this.subscribersByKey.set(key(row.username, domain), subscriber);
  }

  private removeSubscriber(id: string): void {
    const old = this.subscribersById.get(id);
    if (!old) return;
    this.subscribersById.delete(id);
    this.subscribersByKey.delete(key(old.username, old.domain));
  }
}

function key(username: string, domain: string): string {
  return `${username}@${domain.toLowerCase()}`;
}
