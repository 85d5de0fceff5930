/** Transports a binding can be reached over (the `transport` enum of the registrations table). */
export type BindingTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/**
 * One registered contact of an address of record (RFC 3261 §10): where a device can be reached,
 * until when, and over which connection.
 */
export interface Binding {
  /** Normalised `sip:user@domain`. */
  aor: string;
  /** Identifies the binding within the AOR: instance + reg-id, else instance, else the Contact URI. */
  bindingKey: string;
  subscriberId: string;
  contactUri: string;
  /** Source address and port of the REGISTER: where a NATed device is actually reachable. */
  receivedAddress: string;
  receivedPort: number;
  transport: BindingTransport;
  /** Local socket that received the REGISTER (`udp:192.0.2.10:5060`), if the engine told us. */
  localSocket: string | null;
  /** Path header values (RFC 3327), in the order received. */
  path: string[];
  /** Epoch milliseconds. */
  expiresAt: number;
  userAgent: string | null;
  instanceId: string | null;
  regId: number | null;
  q: number | null;
  callId: string;
  cseq: number;
  pnProvider: string | null;
  pnPrid: string | null;
  pnParam: string | null;
  /**
   * Seconds before expiry at which the registrar pushes the device to refresh (RFC 8599 `+sip.pnsreg`);
   * null or absent: the device refreshes by itself.
   */
  pnRefresh?: number | null;
  /** Node whose engine holds the connection to the device. */
  node: string;
  /** Epoch milliseconds of the REGISTER that created or refreshed it (the row's `updated_at`). */
  registeredAt?: number;
}

/**
 * True when the device sits behind NAT: the address it wrote into its Contact is not the one its
 * packets come from (RFC 3581 received/rport tell the same story for the Via).
 */
export function isNatted(binding: Pick<Binding, 'contactUri' | 'receivedAddress' | 'receivedPort'>): boolean {
  const hostPort = contactHostPort(binding.contactUri);
  if (!hostPort) return true;
  return hostPort.host !== binding.receivedAddress || hostPort.port !== binding.receivedPort;
}

/** Host and port of a SIP URI (default port 5060, or 5061 for sips), without parsing parameters. */
export function contactHostPort(uri: string): { host: string; port: number } | undefined {
  const match = /^(sips?):(?:[^@]*@)?(\[[0-9a-fA-F:.]+\]|[^:;?>]+)(?::(\d+))?/.exec(uri);
  if (!match) return undefined;
  const host = match[2]!.replace(/^\[|\]$/g, '').toLowerCase();
  const port = match[3] ? Number(match[3]) : match[1] === 'sips' ? 5061 : 5060;
  return { host, port };
}

/** Seconds left until the binding expires, rounded up (a fresh binding shows what was granted), never negative. */
export function secondsLeft(binding: Pick<Binding, 'expiresAt'>, now: number): number {
  return Math.max(0, Math.ceil((binding.expiresAt - now) / 1000));
}
