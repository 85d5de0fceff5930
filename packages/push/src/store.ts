import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import { joinCredentials, type PushCredentials } from './credentials.ts';
import { sealingContext, unseal } from './sealing.ts';
import type { PushProviderName } from './types.ts';

/** Where the push service finds a domain's credentials. */
export interface CredentialSource {
  get(domain: string, provider: PushProviderName): Promise<PushCredentials | undefined>;
}

/**
 * Reads push credentials from the `push_credentials` table and unseals them, keeping them in memory
 * per domain name. `forget()` empties the cache; the owner calls it for every `push_credentials`
 * change on the change feed (and after the feed reconnects), so an upload applies at once.
 */
export class PushCredentialStore implements CredentialSource {
  private readonly cache = new Map<string, Promise<PushCredentials | undefined>>();

  constructor(
    private readonly prisma: PrismaClient,
    /** The sealing key, or a function giving it (read when the first credentials are). */
    private readonly key: Buffer | (() => Buffer),
    private readonly log: Logger,
  ) {}

  get(domain: string, provider: PushProviderName): Promise<PushCredentials | undefined> {
    const id = `${domain.toLowerCase()}\u0000${provider}`;
    let entry = this.cache.get(id);
    if (!entry) {
      entry = this.load(domain.toLowerCase(), provider);
      this.cache.set(id, entry);
      // A failed read is not remembered: the next push tries again.
      entry.catch(() => {
        if (this.cache.get(id) === entry) this.cache.delete(id);
      });
    }
    return entry;
  }

  forget(): void {
    this.cache.clear();
  }

  private async load(domain: string, provider: PushProviderName): Promise<PushCredentials | undefined> {
    const row = await this.prisma.pushCredential.findFirst({ where: { provider, domain: { name: domain } } });
    if (!row) return undefined;
    try {
      const key = typeof this.key === 'function' ? this.key() : this.key;
      const secret = unseal(key, row.sealedSecret, sealingContext(row.domainId, provider));
      return joinCredentials(provider, row.settings as Record<string, unknown>, secret);
    } catch (error) {
      // A wrong key must not take the registrar down: the domain has no usable credentials.
      this.log.error({ err: error, domain, provider }, 'push credentials unusable');
      return undefined;
    }
  }
}
