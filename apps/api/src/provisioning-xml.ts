import type { SipConnection } from './sip-connection.ts';

/** Transports a softphone registers over, best first: Linphone speaks these three (not WebSocket). */
const PHONE_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;

export interface ProvisionedAccount {
  username: string;
  domain: string;
  displayName: string | null;
  /** Hex MD5(username:realm:password): liblinphone authenticates with it instead of the password. */
  ha1Md5: string;
}

function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The registrar URI a phone sends its REGISTERs to: the advertised host, first phone transport. */
export function registrarUri(connection: SipConnection): string | undefined {
  if (connection.host === undefined) return undefined;
  for (const transport of PHONE_TRANSPORTS) {
    const listener = connection.listeners.find((l) => l.transport === transport);
    if (!listener) continue;
    const host = connection.host.includes(':') ? `[${connection.host}]` : connection.host;
    const scheme = transport === 'tls' ? 'sips' : 'sip';
    return `${scheme}:${host}:${listener.port};transport=${transport}`;
  }
  return undefined;
}

/**
 * Linphone's remote-provisioning document (the lpconfig XML: one `section` per configuration section, one
 * `entry` per key): one account (`proxy_0`) registering through the platform's advertised address, and its
 * credentials (`auth_info_0`) as the MD5 HA1 with `algorithm=MD5`, since the platform keeps no password.
 */
export function linphoneProvisioning(account: ProvisionedAccount, registrar: string): string {
  const identity = account.displayName
    ? `"${account.displayName.replace(/["\\]/g, '')}" <sip:${account.username}@${account.domain}>`
    : `<sip:${account.username}@${account.domain}>`;
  const section = (name: string, entries: Record<string, string>) =>
    `  <section name="${name}">\n${Object.entries(entries)
      .map(([key, value]) => `    <entry name="${key}" overwrite="true">${xmlEscape(value)}</entry>`)
      .join('\n')}\n  </section>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<config xmlns="http://www.linphone.org/xsds/lpconfig.xsd" ' +
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      'xsi:schemaLocation="http://www.linphone.org/xsds/lpconfig.xsd lpconfig.xsd">',
    section('proxy_0', {
      reg_identity: identity,
      reg_proxy: `<${registrar}>`,
      reg_route: `<${registrar};lr>`,
      realm: account.domain,
      reg_expires: '3600',
      reg_sendregister: '1',
      publish: '0',
    }),
    section('auth_info_0', {
      username: account.username,
      userid: account.username,
      ha1: account.ha1Md5,
      algorithm: 'MD5',
      realm: account.domain,
      domain: account.domain,
    }),
    '</config>',
    '',
  ].join('\n');
}
