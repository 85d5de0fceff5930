import { MESSAGES_CHANNEL, type PrismaClient } from '@switchboard/db';
import type { CachedSubscriber } from '../directory/directory.ts';
import type { Outcome } from './relay.ts';

/** A message as the queue sends it again. */
export interface StoredMessage {
  id: string;
  fromUri: string;
  toUri: string;
  contentType: string;
  body: string;
  attempts: number;
  createdAt: Date;
}

export const aorOf = (s: Pick<CachedSubscriber, 'username' | 'domain'>): string =>
  `sip:${s.username}@${s.domain}`;

const failure = (outcome: Outcome): string => `${outcome.status} ${outcome.reason}`.trim();

/** The `messages` table: each message kept for both sides' history, queued ones until delivered. */
export class MessageStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Records a message: `outcome` is how its first delivery ended (none: nothing was registered, it
   * waits in the queue).
   */
  async record(
    message: {
      callId: string;
      sender: CachedSubscriber;
      recipient: CachedSubscriber;
      contentType: string;
      body: string;
    },
    outcome?: Outcome,
  ): Promise<string> {
    const delivered = outcome !== undefined && outcome.status < 300;
    const row = await this.prisma.message.create({
      select: { id: true },
      data: {
        callId: message.callId,
        senderSubscriberId: message.sender.id,
        senderCustomerId: message.sender.customerId,
        recipientSubscriberId: message.recipient.id,
        recipientCustomerId: message.recipient.customerId,
        fromUri: aorOf(message.sender),
        toUri: aorOf(message.recipient),
        contentType: message.contentType,
        body: message.body,
        status: outcome === undefined ? 'queued' : delivered ? 'delivered' : 'failed',
        attempts: outcome === undefined ? 0 : 1,
        error: outcome && !delivered ? failure(outcome) : null,
        deliveredAt: delivered ? new Date() : null,
      },
    });
    // Every node learns that this recipient now has something waiting (MessageQueue.noteQueued).
    if (outcome === undefined)
      await this.prisma.$executeRaw`SELECT pg_notify(${MESSAGES_CHANNEL}, ${message.recipient.id})`;
    return row.id;
  }

  /** The subscribers that have queued messages (read at start and when the change feed reconnects). */
  async recipientsWithQueued(): Promise<string[]> {
    const rows = await this.prisma.message.findMany({
      where: { status: 'queued', recipientSubscriberId: { not: null } },
      distinct: ['recipientSubscriberId'],
      select: { recipientSubscriberId: true },
    });
    return rows.flatMap((r) => (r.recipientSubscriberId ? [r.recipientSubscriberId] : []));
  }

  /** The oldest `limit` queued messages of a recipient, oldest first (the order they were sent in). */
  queuedFor(subscriberId: string, limit: number): Promise<StoredMessage[]> {
    return this.prisma.message.findMany({
      where: { recipientSubscriberId: subscriberId, status: 'queued' },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
      select: {
        id: true,
        fromUri: true,
        toUri: true,
        contentType: true,
        body: true,
        attempts: true,
        createdAt: true,
      },
    });
  }

  /**
   * The outcome of one more delivery attempt: delivered on a 2xx; otherwise still queued with the
   * failure noted, or failed once `maxAttempts` are used up.
   */
  async attempted(message: StoredMessage, outcome: Outcome, maxAttempts: number): Promise<void> {
    const attempts = message.attempts + 1;
    const delivered = outcome.status < 300;
    await this.prisma.message.update({
      where: { id: message.id },
      data: delivered
        ? { status: 'delivered', attempts, deliveredAt: new Date(), error: null }
        : { status: attempts >= maxAttempts ? 'failed' : 'queued', attempts, error: failure(outcome) },
    });
  }
}
