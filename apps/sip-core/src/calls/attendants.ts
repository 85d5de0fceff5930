import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';

/** Where an attendant sends the caller: a subscriber, a hunt group, a voicemail box (by id) or a number. */
export interface AttendantDestination {
  kind: 'subscriber' | 'hunt_group' | 'voicemail' | 'number';
  target: string;
}

/** A customer's auto-attendant as the calls need it (docs/pbx.md#auto-attendant). */
export interface CachedAttendant {
  id: string;
  customerId: string;
  domainId: string;
  /** Lowercase domain name. */
  domain: string;
  username: string;
  name: string;
  greetingText: string;
  /** An uploaded greeting's file name; unset: the generated one. */
  greetingFile?: string | undefined;
  digitTimeoutS: number;
  maxReplays: number;
  /** Digit (0-9, *, #) to destination. */
  menu: Map<string, AttendantDestination>;
  timeout?: AttendantDestination | undefined;
}

const SELECT = {
  id: true,
  customerId: true,
  domainId: true,
  username: true,
  name: true,
  greetingText: true,
  greetingFile: true,
  digitTimeout: true,
  maxReplays: true,
  timeoutKind: true,
  timeoutTarget: true,
  enabled: true,
  domain: { select: { name: true } },
  options: { select: { digit: true, kind: true, target: true } },
} as const;

/**
 * The enabled auto-attendants of every customer, held in memory like the hunt groups so that a call to
 * one costs no database round trip. Loaded at start; any change of an attendant, of its menu or of a
 * domain reloads them all (customers have a handful; a change is rare).
 */
export class Attendants {
  private byKey = new Map<string, CachedAttendant>();
  private byId = new Map<string, CachedAttendant>();
  private loading: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
  ) {}

  /** Every enabled attendant, e.g. to prepare their greetings. */
  all(): CachedAttendant[] {
    return [...this.byKey.values()];
  }

  /** The enabled attendant `username@domain`, if there is one. */
  find(username: string, domain: string): CachedAttendant | undefined {
    return this.byKey.get(key(username, domain));
  }

  /** The enabled attendant with this id (a number pointing at it), if there is one. */
  findById(id: string): CachedAttendant | undefined {
    return this.byId.get(id);
  }

  /** Reloads everything; overlapping changes share one reload after the running one. */
  load(): Promise<void> {
    const next = (this.loading ?? Promise.resolve()).then(() => this.read());
    this.loading = next.finally(() => {
      if (this.loading === next) this.loading = undefined;
    });
    return next;
  }

  private async read(): Promise<void> {
    const rows = await this.prisma.autoAttendant.findMany({ where: { enabled: true }, select: SELECT });
    const byKey = new Map<string, CachedAttendant>();
    for (const row of rows) {
      const domain = row.domain.name.toLowerCase();
      byKey.set(key(row.username, domain), {
        id: row.id,
        customerId: row.customerId,
        domainId: row.domainId,
        domain,
        username: row.username,
        name: row.name,
        greetingText: row.greetingText,
        greetingFile: row.greetingFile ?? undefined,
        digitTimeoutS: row.digitTimeout,
        maxReplays: row.maxReplays,
        menu: new Map(row.options.map((o) => [o.digit, { kind: o.kind, target: o.target }])),
        timeout:
          row.timeoutKind && row.timeoutTarget
            ? { kind: row.timeoutKind, target: row.timeoutTarget }
            : undefined,
      });
    }
    this.byKey = byKey;
    this.byId = new Map([...byKey.values()].map((a) => [a.id, a]));
    this.log.info({ attendants: rows.length }, 'auto-attendants loaded');
  }
}

function key(username: string, domain: string): string {
  return `${username.toLowerCase()}@${domain.toLowerCase()}`;
}
