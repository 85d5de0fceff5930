/** Where phones connect, as the API's /sip-connection answers it. */
export interface SipConnectionInfo {
  host: string | null;
  listeners: { transport: string; port: number }[];
  registrar: string | null;
}

/** Transports a desk phone or softphone can use (WebSocket is for browsers). */
export function phoneListeners(
  connection: SipConnectionInfo | undefined,
): { transport: string; port: number }[] {
  return (connection?.listeners ?? []).filter((l) => ['udp', 'tcp', 'tls'].includes(l.transport));
}

/** Plain-text account settings a softphone user can type in. */
export function provisioningText(
  account: { username: string; domain: string; password?: string | null },
  connection?: SipConnectionInfo,
): string {
  const lines = [
    `SIP URI: sip:${account.username}@${account.domain}`,
    `User name: ${account.username}`,
    `Authentication user: ${account.username}`,
    `Domain / registrar: ${account.domain}`,
  ];
  const listeners = phoneListeners(connection);
  if (connection?.host && listeners.length > 0) {
    lines.push(`Server (outbound proxy): ${connection.host}`);
    lines.push(
      `Port / transport: ${listeners.map((l) => `${l.port} ${l.transport.toUpperCase()}`).join(', ')}`,
    );
  }
  lines.push(`Password: ${account.password ?? '(the password you were given; generate a new one if lost)'}`);
  return lines.join('\n');
}

/**
 * The `wss://` address a browser phone registers through (RFC 7118): the advertised host and the secure
 * WebSocket port. Undefined when the platform has no wss listener or no known address: browsers open
 * plain `ws://` only from pages that are not https, so the phone does not rely on it.
 */
export function webSocketServer(connection: SipConnectionInfo | undefined): string | undefined {
  const wss = connection?.listeners.find((l) => l.transport === 'wss');
  if (!connection?.host || !wss) return undefined;
  const host = connection.host.includes(':') ? `[${connection.host}]` : connection.host;
  return `wss://${host}:${wss.port}`;
}

/**
 * The https page of a wss server: a browser that does not trust its certificate (self-signed) fails the
 * WebSocket without asking; opening this page once lets the user accept the certificate for that origin.
 */
export function certificatePage(server: string): string {
  return server.replace(/^wss:/, 'https:');
}

/** The MD5 HA1 in a Linphone provisioning document (`auth_info_0` section, entry `ha1`). */
export function ha1FromProvisioning(xml: string): string | undefined {
  const match = /<entry name="ha1"[^>]*>([0-9a-f]{32})<\/entry>/i.exec(xml);
  return match?.[1]?.toLowerCase();
}
