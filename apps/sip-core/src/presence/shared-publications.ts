import { type PrismaClient, PUBLICATIONS_CHANNEL } from '@switchboard/db';
import type { Logger } from 'pino';
import { SerialAnnouncer } from '../announcements.ts';

/** A publication as every process keeps it: its entity tag, document and end (epoch ms). */
export interface PublicationState {
  etag: string;
  body: string;
  expiresAt: number;
}

/**
 * One change of a presentity's publications (RFC 3903): `put` stored (an initial, modify or refresh),
 * `drop` removed (the entity tag a modify or refresh replaces, or a removal's).
 */
export interface PublicationNews {
  presentityId: string;
  put?: PublicationState | undefined;
  drop?: string | undefined;
}

/** NOTIFY payloads are limited to 8000 bytes; a publication is not split. */
const MAX_PAYLOAD = 7500;

/**
 * The presence publications of every sip-core worker and node, announced on `PUBLICATIONS_CHANNEL`
 * (PostgreSQL NOTIFY): a device's PUBLISH reaches one worker, its refresh (SIP-If-Match) may reach
 * another, and the watchers served by every worker see the document. Each process keeps the
 * publications and ends them at their expiry itself; only changes cross. Announcements of one process
 * go out one after the other (`SerialAnnouncer`), so that a removal never overtakes the publication it
 * removes.
 */
export class SharedPublications {
  private readonly announcer: SerialAnnouncer;

  constructor(
    prisma: PrismaClient,
    private readonly origin: string,
    private readonly log: Logger,
  ) {
    this.announcer = new SerialAnnouncer(prisma, PUBLICATIONS_CHANNEL, log);
  }

  /** Announces a change made here; a document too large for a notification stays with this process. */
  announce(news: PublicationNews): void {
    const payload = JSON.stringify({ origin: this.origin, ...news });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) {
      this.log.warn(
        { presentityId: news.presentityId, bytes: Buffer.byteLength(payload) },
        'publication too large to share: seen by this process only',
      );
      if (news.drop === undefined) return;
      this.announce({ presentityId: news.presentityId, drop: news.drop });
      return;
    }
    this.announcer.send(payload);
  }

  /** Another process's change from a channel payload; undefined for this process's own or a malformed one. */
  heard(payload: string): PublicationNews | undefined {
    let value: PublicationNews & { origin?: unknown };
    try {
      value = JSON.parse(payload) as PublicationNews & { origin?: unknown };
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null || value.origin === this.origin) return undefined;
    if (typeof value.origin !== 'string' || typeof value.presentityId !== 'string') return undefined;
    const put = value.put;
    const validPut =
      put === undefined ||
      (typeof put === 'object' &&
        put !== null &&
        typeof put.etag === 'string' &&
        typeof put.body === 'string' &&
        typeof put.expiresAt === 'number');
    if (!validPut || (value.drop !== undefined && typeof value.drop !== 'string')) return undefined;
    return { presentityId: value.presentityId, put, drop: value.drop };
  }
}
