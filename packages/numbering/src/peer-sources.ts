import { BlockList, isIP } from 'node:net';
import type { GatewayData, PeeringGroupData } from './types.ts';

/** The peer a request's source address belongs to. */
export interface PeerSource {
  gatewayId: string;
  gatewayName: string;
  groupId: string;
  groupName: string;
  /** What matched: the gateway's own host, or one of its trusted sources (an address or a CIDR block). */
  matched: string;
}

interface CidrEntry {
  prefix: number;
  priority: number;
  list: BlockList;
  peer: PeerSource;
}

/**
 * One spelling per address: IPv6 brackets and the IPv4-mapped prefix stripped, IPv6 compressed the
 * WHATWG way (`2001:0db8:0::1` -> `2001:db8::1`), so exact entries are a plain Map lookup.
 */
function canonical(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) return a.slice(7);
  if (isIP(a) === 6) return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  return a;
}

function family(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/**
 * Source address -> peer gateway, for requests that arrive from the phone network. A gateway is
 * recognised by its `host` when that is an IP literal and by each of its `trusted_sources` (IP or
 * CIDR). Only enabled gateways of enabled groups count. When several match, the most specific entry
 * wins (a single address before any block, then the longer prefix), then the lower gateway priority,
 * then the gateway id: the answer never depends on row order.
 */
export class PeerSourceTable {
  private readonly exact = new Map<string, { priority: number; peer: PeerSource }>();
  private readonly cidrs: CidrEntry[] = [];
  /** Entries that are neither an address nor a CIDR block (the index reports them as load problems). */
  readonly rejected: { gatewayId: string; entry: string }[] = [];

  constructor(gateways: readonly GatewayData[], groups: readonly PeeringGroupData[]) {
    const groupsById = new Map(groups.map((group) => [group.id, group]));
    const ordered = [...gateways].sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id));
    for (const gateway of ordered) {
      const group = groupsById.get(gateway.groupId);
      if (!gateway.enabled || !group?.enabled) continue;
      const base = {
        gatewayId: gateway.id,
        gatewayName: gateway.name,
        groupId: group.id,
        groupName: group.name,
      };
      // A host name is not resolved here: a DNS answer must not decide who skips authentication.
      const host = canonical(gateway.host);
      if (family(host)) this.addExact(host, gateway.priority, { ...base, matched: host });
      for (const entry of gateway.trustedSources ?? []) {
        if (!this.add(entry, gateway.priority, base)) this.rejected.push({ gatewayId: gateway.id, entry });
      }
    }
    this.cidrs.sort((a, b) => b.prefix - a.prefix || a.priority - b.priority);
  }

  get size(): number {
    return this.exact.size + this.cidrs.length;
  }

  /** The peer `address` belongs to, or null. */
  lookup(address: string): PeerSource | null {
    if (this.size === 0) return null;
    const a = canonical(address);
    const exact = this.exact.get(a);
    if (exact) return exact.peer;
    const f = family(a);
    if (!f) return null;
    for (const entry of this.cidrs) if (entry.list.check(a, f)) return entry.peer;
    return null;
  }

  private addExact(address: string, priority: number, peer: PeerSource): void {
    // Gateways come in priority order: the first one to claim an address keeps it.
    if (!this.exact.has(address)) this.exact.set(address, { priority, peer });
  }

  private add(entry: string, priority: number, base: Omit<PeerSource, 'matched'>): boolean {
    const [addressText = '', prefixText, extra] = entry.trim().split('/');
    if (extra !== undefined) return false;
    const address = canonical(addressText);
    const f = family(address);
    if (!f) return false;
    const max = f === 'ipv4' ? 32 : 128;
    if (prefixText === undefined || prefixText === String(max)) {
      this.addExact(address, priority, { ...base, matched: address });
      return true;
    }
    if (!/^\d{1,3}$/.test(prefixText)) return false;
    const prefix = Number(prefixText);
    if (prefix > max) return false;
    const list = new BlockList();
    list.addSubnet(address, prefix, f);
    this.cidrs.push({ prefix, priority, list, peer: { ...base, matched: `${address}/${prefix}` } });
    return true;
  }
}
