import { Resolver } from 'node:dns/promises';
import {
  addressFamily,
  defaultPort,
  normalizeAddress,
  parseTransportToken,
  type TransportProtocol,
} from '../transport/types.ts';
import { lookupHostsFile } from './hosts-file.ts';

/** What RFC 3263 needs from a SIP URI to locate the server. */
export interface LocateRequest {
  host: string;
  port?: number;
  /** The URI's `transport` parameter, if any. */
  transport?: string;
  /** sips: scheme (RFC 3263 §4.1: only TLS-based transports). */
  secure?: boolean;
}

/** One place to try, in the order returned; on failure move to the next (RFC 3263 §4.3). */
export interface ResolvedTarget {
  transport: TransportProtocol;
  address: string;
  port: number;
  /** Name to verify in the TLS certificate: the domain of the URI (RFC 3263 §4.3, RFC 5922). */
  serverName: string;
}

export interface SipResolverOptions {
  /** DNS servers ('127.0.0.1:5353', '[::1]:53'); the system's when absent. */
  servers?: string[];
  timeoutMs?: number;
  tries?: number;
  /** Transports we can use, most preferred first (filters NAPTR and picks SRV queries). */
  transports?: TransportProtocol[];
  /** Random source for SRV weight selection (tests pass a fixed one). */
  random?: () => number;
  /** The static host table consulted when DNS has no A/AAAA record (default `/etc/hosts`; '' for none). */
  hostsFile?: string;
}

/** NAPTR service field for each transport (RFC 3263 §4.1, RFC 7118 §7). */
const NAPTR_SERVICES: Record<string, TransportProtocol> = {
  'SIP+D2U': 'udp',
  'SIP+D2T': 'tcp',
  'SIPS+D2T': 'tls',
  'SIP+D2W': 'ws',
  'SIPS+D2W': 'wss',
};

/** SRV prefix for each transport (RFC 3263 §4.1, RFC 7118 §7). */
const SRV_PREFIX: Record<TransportProtocol, string> = {
  udp: '_sip._udp',
  tcp: '_sip._tcp',
  tls: '_sips._tcp',
  ws: '_sip._ws',
  wss: '_sips._ws',
};

interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

const NO_RECORDS = new Set([
  'ENODATA',
  'ENOTFOUND',
  'ESERVFAIL',
  'EREFUSED',
  'ETIMEOUT',
  'ECONNREFUSED',
  'EBADRESP',
]);

/** RFC 3263 server location: NAPTR -> SRV -> A/AAAA, giving an ordered list of targets for failover. */
export class SipResolver {
  private readonly dns: Resolver;
  private readonly transports: TransportProtocol[];
  private readonly random: () => number;
  private readonly hostsFile: string;

  constructor(options: SipResolverOptions = {}) {
    this.dns = new Resolver({ timeout: options.timeoutMs ?? 2_000, tries: options.tries ?? 2 });
    if (options.servers?.length) this.dns.setServers(options.servers);
    this.transports = options.transports ?? ['udp', 'tcp', 'tls', 'ws', 'wss'];
    this.random = options.random ?? Math.random;
    this.hostsFile = options.hostsFile ?? '/etc/hosts';
  }

  /** Resolves a URI's host part to an ordered list of (transport, address, port). Empty when nothing resolves. */
  async resolve(req: LocateRequest): Promise<ResolvedTarget[]> {
    const host = normalizeAddress(req.host);
    const secure = req.secure ?? false;
    const explicit = req.transport ? parseTransportToken(req.transport) : undefined;
    if (req.transport && !explicit) return [];
    if (explicit && secure && explicit !== 'tls' && explicit !== 'wss') return [];

    // §4.1 / §4.2: a numeric IP needs no DNS at all.
    if (addressFamily(host) !== 0) {
      const transport = explicit ?? (secure ? 'tls' : 'udp');
      return [{ transport, address: host, port: req.port ?? defaultPort(transport), serverName: host }];
    }

    // §4.2: an explicit port means plain A/AAAA lookups, no SRV.
    if (req.port !== undefined) {
      const transport = explicit ?? (secure ? 'tls' : 'udp');
      return this.addressTargets(host, req.port, transport, host);
    }

    if (explicit) {
      // §4.1: transport given, so skip NAPTR; §4.2: SRV for that transport, else A/AAAA on the default port.
      const viaSrv = await this.srvTargets(host, explicit, host);
      return viaSrv ?? this.addressTargets(host, defaultPort(explicit), explicit, host);
    }

    const viaNaptr = await this.naptrTargets(host, secure);
    if (viaNaptr) return viaNaptr;

    // §4.1: no NAPTR: SRV queries for each supported transport, in our order of preference.
    const usable = this.transports.filter((t) => !secure || t === 'tls' || t === 'wss');
    const all: ResolvedTarget[] = [];
    for (const transport of usable) {
      const targets = await this.srvTargets(host, transport, host);
      if (targets) all.push(...targets);
    }
    if (all.length) return all;

    // §4.1: no SRV either: UDP for sip, TLS for sips, on the default port.
    const transport: TransportProtocol = secure ? 'tls' : 'udp';
    return this.addressTargets(host, defaultPort(transport), transport, host);
  }

  /** NAPTR step; undefined when the domain has no usable NAPTR records. */
  private async naptrTargets(domain: string, secure: boolean): Promise<ResolvedTarget[] | undefined> {
    const records = await this.query(() => this.dns.resolveNaptr(domain));
    const usable = records
      .filter((r) => r.flags.toLowerCase() === 's')
      .map((r) => ({ ...r, transport: NAPTR_SERVICES[r.service.toUpperCase()] }))
      .filter(
        (r): r is typeof r & { transport: TransportProtocol } =>
          r.transport !== undefined &&
          this.transports.includes(r.transport) &&
          (!secure || r.transport === 'tls' || r.transport === 'wss'),
      )
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    if (!usable.length) return undefined;
    const out: ResolvedTarget[] = [];
    for (const r of usable) {
      const srv = await this.resolveSrvName(r.replacement);
      for (const rec of srv)
        out.push(...(await this.addressTargets(rec.name, rec.port, r.transport, domain)));
    }
    return out.length ? out : undefined;
  }

  /** SRV step for one transport; undefined when there are no SRV records. */
  private async srvTargets(
    domain: string,
    transport: TransportProtocol,
    serverName: string,
  ): Promise<ResolvedTarget[] | undefined> {
    const records = await this.resolveSrvName(`${SRV_PREFIX[transport]}.${domain}`);
    if (!records.length) return undefined;
    const out: ResolvedTarget[] = [];
    for (const rec of records)
      out.push(...(await this.addressTargets(rec.name, rec.port, transport, serverName)));
    return out;
  }

  /** SRV records ordered per RFC 2782: priority ascending, weighted random within a priority. */
  private async resolveSrvName(name: string): Promise<SrvRecord[]> {
    const records = (await this.query(() => this.dns.resolveSrv(name))).filter((r) => r.name !== '.');
    return orderSrv(records, this.random);
  }

  private async addressTargets(
    host: string,
    port: number,
    transport: TransportProtocol,
    serverName: string,
  ): Promise<ResolvedTarget[]> {
    if (addressFamily(host) !== 0) return [{ transport, address: normalizeAddress(host), port, serverName }];
    const [v4, v6] = await Promise.all([
      this.query(() => this.dns.resolve4(host)),
      this.query(() => this.dns.resolve6(host)),
    ]);
    let addresses = [...v4, ...v6];
    // After NAPTR/SRV and DNS A/AAAA found nothing: the names the system resolver knows from its host table.
    if (addresses.length === 0 && this.hostsFile !== '')
      addresses = await lookupHostsFile(this.hostsFile, host);
    return addresses.map((address) => ({
      transport,
      address: normalizeAddress(address),
      port,
      serverName,
    }));
  }

  /** A lookup that finds nothing (or fails) is an empty answer: location falls through to the next step. */
  private async query<T>(lookup: () => Promise<T[]>): Promise<T[]> {
    try {
      return await lookup();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && NO_RECORDS.has(code)) return [];
      throw err;
    }
  }
}

/** RFC 2782 ordering: lowest priority first; within a priority, pick by weight at random without replacement. */
export function orderSrv(records: SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Zero-weight records first so they keep a small chance of selection, as RFC 2782 describes.
    const pool = [...byPriority.get(priority)!].sort((a, b) => a.weight - b.weight);
    while (pool.length) {
      const total = pool.reduce((sum, r) => sum + r.weight, 0);
      const pick = Math.floor(random() * (total + 1));
      let running = 0;
      let index = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        running += pool[i]!.weight;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(pool.splice(index, 1)[0]!);
    }
  }
  return out;
}
