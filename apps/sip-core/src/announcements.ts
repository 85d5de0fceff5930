import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';

/**
 * What sip-core's workers and nodes tell each other on PostgreSQL NOTIFY channels (bindings, call
 * states, presence publications): every clustered process already listens to the database.
 */

/** NOTIFY payloads are limited to 8000 bytes; chunks stay well below. */
export const MAX_NOTIFY_PAYLOAD = 6000;

/**
 * `items` in runs whose sizes add up to at most `max`, in order; an item larger than `max` is a run of
 * its own.
 */
export function chunkBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  max = MAX_NOTIFY_PAYLOAD,
): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = sizeOf(item);
    if (size + bytes > max && chunk.length > 0) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(item);
    size += bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Sends payloads on one channel one after the other, so that a later change never overtakes an
 * earlier one (an ending the answer before it); a failed send is logged and the next goes on.
 */
export class SerialAnnouncer {
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly channel: string,
    private readonly log: Logger,
  ) {}

  send(payload: string): void {
    this.sending = this.sending.then(async () => {
      try {
        await this.prisma.$executeRaw`SELECT pg_notify(${this.channel}, ${payload})`;
      } catch (error) {
        this.log.warn(
          { err: error, channel: this.channel },
          'could not announce a change to the other processes',
        );
      }
    });
  }
}
