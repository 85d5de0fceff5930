import type { PrismaClient } from '@switchboard/db';
import type { MailboxCounts } from '../presence/documents.ts';

export interface VoicemailBoxSettings {
  subscriberId: string;
  enabled: boolean;
  pinHash: string | null;
  /** The unavailable greeting's file (greetings folder); null: the default prompt. */
  greeting: string | null;
  /** The busy greeting's file; null: the default busy prompt. */
  busyGreeting: string | null;
  maxMessageSeconds: number;
  maxMessages: number;
  email: string | null;
  deleteAfterEmail: boolean;
  /** Unsolicited message-summary NOTIFYs to devices that did not subscribe (voicemail/unsolicited-mwi.ts). */
  unsolicitedMwi: boolean;
}

/**
 * Which greeting a call hears: `busy` when a busy forward (CFB) sent it to the box, `unavailable` for
 * every other way (no answer, not reachable, unconditional, a hunt group nobody answered).
 */
export type GreetingKind = 'unavailable' | 'busy';

/** The box column holding each kind's file name. */
export const GREETING_COLUMN = { unavailable: 'greeting', busy: 'busyGreeting' } as const;

export interface StoredVoicemail {
  id: string;
  subscriberId: string;
  caller: string;
  durationMs: number;
  file: string;
  heard: boolean;
  createdAt: Date;
}

const NONE: MailboxCounts = { newMessages: 0, oldMessages: 0 };

/**
 * Voicemail boxes and messages in the database, and every box's new/old counts in memory (loaded at
 * start, one box reloaded per change of the feed), so a message-summary NOTIFY (RFC 3842) reads no
 * table. Box settings are read per call: a deposit is rare next to the calls that ring.
 */
export class VoicemailStore {
  private counts = new Map<string, MailboxCounts>();

  constructor(private readonly prisma: PrismaClient) {}

  async load(): Promise<void> {
    const rows = await this.prisma.voicemailMessage.groupBy({
      by: ['subscriberId', 'heard'],
      _count: { _all: true },
    });
    const counts = new Map<string, MailboxCounts>();
    for (const row of rows) {
      const entry = counts.get(row.subscriberId) ?? { newMessages: 0, oldMessages: 0 };
      if (row.heard) entry.oldMessages = row._count._all;
      else entry.newMessages = row._count._all;
      counts.set(row.subscriberId, entry);
    }
    this.counts = counts;
  }

  /** Reloads one box's counts (a change of `voicemail_messages`); null: all of them. */
  async onChanged(subscriberId: string | null): Promise<void> {
    if (subscriberId === null) return this.load();
    const [newMessages, oldMessages] = await Promise.all([
      this.prisma.voicemailMessage.count({ where: { subscriberId, heard: false } }),
      this.prisma.voicemailMessage.count({ where: { subscriberId, heard: true } }),
    ]);
    this.counts.set(subscriberId, { newMessages, oldMessages });
  }

  countsOf(subscriberId: string): MailboxCounts {
    return this.counts.get(subscriberId) ?? NONE;
  }

  box(subscriberId: string): Promise<VoicemailBoxSettings | null> {
    return this.prisma.voicemailBox.findUnique({ where: { subscriberId } });
  }

  /**
   * Makes `file` (in the greetings folder) the box's greeting of `kind`; resolves with the file it
   * replaces (the caller removes it), null when the default played.
   */
  async setGreeting(subscriberId: string, kind: GreetingKind, file: string): Promise<string | null> {
    const column = GREETING_COLUMN[kind];
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.voicemailBox.findUnique({ where: { subscriberId } });
      await tx.voicemailBox.update({ where: { subscriberId }, data: { [column]: file } });
      return before?.[column] ?? null;
    });
  }

  add(
    message: Omit<StoredVoicemail, 'id' | 'heard' | 'createdAt'> & { customerId: string },
  ): Promise<StoredVoicemail> {
    return this.prisma.voicemailMessage.create({ data: message });
  }

  /** New messages first, then old ones; each group oldest first (as a phone menu plays them). */
  list(subscriberId: string): Promise<StoredVoicemail[]> {
    return this.prisma.voicemailMessage.findMany({
      where: { subscriberId },
      orderBy: [{ heard: 'asc' }, { createdAt: 'asc' }],
    });
  }

  count(subscriberId: string): Promise<number> {
    return this.prisma.voicemailMessage.count({ where: { subscriberId } });
  }

  async markHeard(id: string): Promise<void> {
    await this.prisma.voicemailMessage.updateMany({ where: { id, heard: false }, data: { heard: true } });
  }

  async remove(id: string): Promise<void> {
    await this.prisma.voicemailMessage.deleteMany({ where: { id } });
  }
}
