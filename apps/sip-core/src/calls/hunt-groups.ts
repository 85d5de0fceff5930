import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';

export type HuntStrategy = 'parallel' | 'sequential' | 'round_robin';

/** Where a hunt group's unanswered call goes; the kinds grow (voicemail) without touching the route. */
export interface HuntDestination {
  kind: 'uri' | 'number' | 'voicemail';
  destination: string;
}

/** A customer's hunt group as the calls need it. */
export interface CachedHuntGroup {
  id: string;
  customerId: string;
  domainId: string;
  /** Lowercase domain name. */
  domain: string;
  username: string;
  name: string;
  strategy: HuntStrategy;
  /** Seconds each member rings (sequential, round robin) or the whole group rings (parallel). */
  ringTimeoutS: number;
  noAnswer?: HuntDestination | undefined;
  /** Member subscriber ids in position order. */
  memberIds: string[];
}

const GROUP_SELECT = {
  id: true,
  customerId: true,
  domainId: true,
  username: true,
  name: true,
  strategy: true,
  ringTimeout: true,
  noAnswerKind: true,
  noAnswerDestination: true,
  enabled: true,
  domain: { select: { name: true } },
  members: { select: { id: true, subscriberId: true }, orderBy: { position: 'asc' } },
} as const;

interface GroupRow {
  id: string;
  customerId: string;
  domainId: string;
  username: string;
  name: string;
  strategy: HuntStrategy;
  ringTimeout: number;
  noAnswerKind: 'uri' | 'number' | 'voicemail' | null;
  noAnswerDestination: string | null;
  enabled: boolean;
  domain: { name: string };
  members: Array<{ id: string; subscriberId: string }>;
}

/**
 * The enabled hunt groups of every customer, held in memory so that a call to one costs no database
 * round trip. Loaded at start and kept current from the change feed (`onGroupChanged`,
 * `onMemberChanged`, and a domain's change through `load`), like the call forwards. The round-robin
 * position of each group is this node's own: with several nodes each rotates on its own.
 */
export class HuntGroups {
  private byKey = new Map<string, CachedHuntGroup>();
  private byId = new Map<string, CachedHuntGroup>();
  /** Which group a member row belongs to, to apply a deletion. */
  private groupOfMember = new Map<string, string>();
  /** Round robin: the member index the next call starts at, per group. */
  private readonly nextStart = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    const rows = await this.prisma.huntGroup.findMany({ select: GROUP_SELECT });
    this.byKey = new Map();
    this.byId = new Map();
    this.groupOfMember = new Map();
    for (const row of rows) this.put(row);
    this.log.info({ huntGroups: rows.length }, 'hunt groups loaded');
  }

  /** The enabled hunt group `username@domain`, if there is one. */
  find(username: string, domain: string): CachedHuntGroup | undefined {
    return this.byKey.get(key(username, domain));
  }

  /** The enabled hunt group with this id (a number, DID, pointing at it). */
  findById(id: string): CachedHuntGroup | undefined {
    return this.byId.get(id);
  }

  /**
   * The members in the order this call rings them: position order, or for round robin rotated one
   * further on each call.
   */
  memberOrder(group: CachedHuntGroup): string[] {
    if (group.strategy !== 'round_robin' || group.memberIds.length === 0) return group.memberIds;
    const start = (this.nextStart.get(group.id) ?? 0) % group.memberIds.length;
    this.nextStart.set(group.id, start + 1);
    return [...group.memberIds.slice(start), ...group.memberIds.slice(0, start)];
  }

  async onGroupChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    await this.reloadGroup(id);
  }

  async onMemberChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const known = this.groupOfMember.get(id);
    const row = await this.prisma.huntGroupMember.findUnique({
      where: { id },
      select: { huntGroupId: true },
    });
    if (known) await this.reloadGroup(known);
    if (row && row.huntGroupId !== known) await this.reloadGroup(row.huntGroupId);
  }

  private async reloadGroup(id: string): Promise<void> {
    const row = await this.prisma.huntGroup.findUnique({ where: { id }, select: GROUP_SELECT });
    this.remove(id);
    if (row) this.put(row);
  }

  private remove(id: string): void {
    const old = this.byId.get(id);
    if (old) this.byKey.delete(key(old.username, old.domain));
    this.byId.delete(id);
    for (const [member, group] of this.groupOfMember) if (group === id) this.groupOfMember.delete(member);
  }

  private put(row: GroupRow): void {
    for (const member of row.members) this.groupOfMember.set(member.id, row.id);
    if (!row.enabled) return;
    const group: CachedHuntGroup = {
      id: row.id,
      customerId: row.customerId,
      domainId: row.domainId,
      domain: row.domain.name.toLowerCase(),
      username: row.username,
      name: row.name,
      strategy: row.strategy,
      ringTimeoutS: row.ringTimeout,
      noAnswer:
        row.noAnswerKind && row.noAnswerDestination
          ? { kind: row.noAnswerKind, destination: row.noAnswerDestination }
          : undefined,
      memberIds: row.members.map((m) => m.subscriberId),
    };
    this.byId.set(row.id, group);
    this.byKey.set(key(row.username, group.domain), group);
  }
}

function key(username: string, domain: string): string {
  return `${username.toLowerCase()}@${domain.toLowerCase()}`;
}
