/** How phones reach the platform's SIP side: the advertised host and the transports with their ports. */
export interface SipConnection {
  /** SIP_ADVERTISED_ADDRESS (or the first non-loopback IPv4 address); undefined when unknown. */
  host: string | undefined;
  listeners: { transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss'; port: number }[];
}

/**
 * The connection from the engine's listeners (the ports they really bound, which differ from SIP_LISTEN's
 * when it says port 0) and the advertised address. The same port under several local addresses is listed
 * once.
 */
export function sipConnectionOf(
  advertised: string | undefined,
  listeners: readonly { transport: string; port: number }[],
): SipConnection {
  const seen = new Set<string>();
  const out: SipConnection['listeners'] = [];
  for (const l of listeners) {
    const key = `${l.transport}:${l.port}`;
    if (seen.has(key) || !['udp', 'tcp', 'tls', 'ws', 'wss'].includes(l.transport)) continue;
    seen.add(key);
    out.push({ transport: l.transport as SipConnection['listeners'][number]['transport'], port: l.port });
  }
  return { host: advertised, listeners: out };
}
