/** Plain-text account settings a softphone user can type in or scan (as a QR code). */
export function provisioningText(account: {
  username: string;
  domain: string;
  password?: string | null;
}): string {
  return [
    `SIP URI: sip:${account.username}@${account.domain}`,
    `User name: ${account.username}`,
    `Authentication user: ${account.username}`,
    `Domain / registrar: ${account.domain}`,
    `Password: ${account.password ?? '(the password you were given; reset it to get a new one)'}`,
  ].join('\n');
}
