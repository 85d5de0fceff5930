/**
 * Outgoing e-mail and the address links in it point to (extensions of the runtime contract):
 * - `SMTP_URL`: `smtp://user:pass@host:port` (STARTTLS when the server offers it) or `smtps://...` (TLS from
 *   the first byte); unset: no e-mail, and the features that need it (password reset, sign-up checks) say so.
 * - `MAIL_FROM`: the sender address; default `Switchboard <no-reply@SMTP host>`.
 * - `PUBLIC_URL`: the web app's address as users reach it (`https://voip.example.com`), written into links in
 *   e-mails and provisioning QR codes. Unset: links are built from the request only when it came to a
 *   loopback address; e-mails with links are refused otherwise (a Host header is the sender's to choose).
 */
export interface MailConfig {
  smtpUrl: string | undefined;
  mailFrom: string | undefined;
  publicUrl: string | undefined;
}

type Check = <T>(name: string, fallback: T, parse: (raw: string) => T) => T;

export function parseSmtpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected smtp://[user:pass@]host[:port] or smtps://...');
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
    throw new Error('expected smtp://[user:pass@]host[:port] or smtps://...');
  }
  return raw;
}

export function parsePublicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected an http(s) URL such as https://voip.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error('expected an http(s) URL such as https://voip.example.com');
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function parseMailFrom(raw: string): string {
  if (!/@/.test(raw) || /[\r\n]/.test(raw)) throw new Error('expected an address like Name <user@host>');
  return raw;
}

export function readMail(check: Check): MailConfig {
  return {
    smtpUrl: check<string | undefined>('SMTP_URL', undefined, parseSmtpUrl),
    mailFrom: check<string | undefined>('MAIL_FROM', undefined, parseMailFrom),
    publicUrl: check<string | undefined>('PUBLIC_URL', undefined, parsePublicUrl),
  };
}
