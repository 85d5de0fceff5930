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
