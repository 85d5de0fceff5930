import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import type { ForwardType } from '../cdr/cdr-writer.ts';

/** One destination of a call forward, in the order it is tried. */
export interface ForwardDestination {
  kind: 'uri' | 'number' | 'voicemail';
  destination: string;
  /** Seconds it rings before the next destination is tried; undefined: the calls' ring timeout. */
  ringTimeoutS?: number | undefined;
}

export interface CallForward {
  id: string;
  subscriberId: string;
  type: ForwardType;
  /** For `cft`: seconds the subscriber's devices ring before the call is forwarded. */
  ringTimeoutS?: number | undefined;
  destinations: ForwardDestination[];
}

const FORWARD_SELECT = {
  id: true,
  subscriberId: true,
  type: true,
  enabled: true,
  ringTimeout: true,
  destinations: {
    select: { id: true, kind: true, destination: true, ringTimeout: true, position: true },
    orderBy: { position: 'asc' },
  },
} as const;

interface ForwardRow {
  id: string;
  subscriberId: string;
  type: ForwardType;
  enabled: boolean;
  ringTimeout: number | null;
  destinations: Array<{
    id: string;
    kind: 'uri' | 'number' | 'voicemail';
    destination: string;
    ringTimeout: number | null;
  }>;
}

/**
 * The enabled call forwards of every subscriber, held in memory so that a call costs no database
 * round trip for them. Loaded at start and kept current from the change feed
 * (`onForwardChanged`, `onDestinationChanged`), like the directory; `load()` again after the feed
 * reconnects.
 */
export class CallForwards {
  private bySubscriber = new Map<string, Map<ForwardType, CallForward>>();
  /** Which subscriber a forward and a destination belong to, to apply a deletion. */
  private subscriberOfForward = new Map<string, string>();
  private forwardOfDestination = new Map<string, string>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    const rows = await this.prisma.callForward.findMany({ select: FORWARD_SELECT });
    this.bySubscriber = new Map();
    this.subscriberOfForward = new Map();
    this.forwardOfDestination = new Map();
    for (const row of rows) this.put(row);
    this.log.info({ forwards: rows.length }, 'call forwards loaded');
  }

  /** The subscriber's forward of this type if it is enabled and has somewhere to go. */
  of(subscriberId: string, type: ForwardType): CallForward | undefined {
    return this.bySubscriber.get(subscriberId)?.get(type);
  }

  async onForwardChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const known = this.subscriberOfForward.get(id);
    const row = await this.prisma.callForward.findUnique({ where: { id }, select: FORWARD_SELECT });
    if (known) await this.reloadSubscriber(known);
    if (row && row.subscriberId !== known) await this.reloadSubscriber(row.subscriberId);
  }

  async onDestinationChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const knownForward = this.forwardOfDestination.get(id);
    const row = await this.prisma.callForwardDestination.findUnique({
      where: { id },
      select: { callForward: { select: { subscriberId: true } } },
    });
    const subscribers = new Set<string>();
    const known = knownForward ? this.subscriberOfForward.get(knownForward) : undefined;
    if (known) subscribers.add(known);
    if (row) subscribers.add(row.callForward.subscriberId);
    for (const subscriberId of subscribers) await this.reloadSubscriber(subscriberId);
  }

  private async reloadSubscriber(subscriberId: string): Promise<void> {
    const rows = await this.prisma.callForward.findMany({ where: { subscriberId }, select: FORWARD_SELECT });
    for (const forward of this.bySubscriber.get(subscriberId)?.values() ?? []) this.forget(forward.id);
    this.bySubscriber.delete(subscriberId);
    for (const row of rows) this.put(row);
  }

  private forget(forwardId: string): void {
    this.subscriberOfForward.delete(forwardId);
    for (const [destination, forward] of this.forwardOfDestination)
      if (forward === forwardId) this.forwardOfDestination.delete(destination);
  }

  private put(row: ForwardRow): void {
    this.subscriberOfForward.set(row.id, row.subscriberId);
    for (const d of row.destinations) this.forwardOfDestination.set(d.id, row.id);
    if (!row.enabled || row.destinations.length === 0) return;
    let forwards = this.bySubscriber.get(row.subscriberId);
    if (!forwards) {
      forwards = new Map();
      this.bySubscriber.set(row.subscriberId, forwards);
    }
    forwards.set(row.type, {
      id: row.id,
      subscriberId: row.subscriberId,
      type: row.type,
      ringTimeoutS: row.ringTimeout ?? undefined,
      destinations: row.destinations.map((d) => ({
        kind: d.kind,
        destination: d.destination,
        ringTimeoutS: d.ringTimeout ?? undefined,
      })),
    });
  }
}
