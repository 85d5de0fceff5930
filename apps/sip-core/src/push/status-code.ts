import { createRequire } from 'node:module';

/** RFC 8599: the status a registrar answers when it cannot push through the named service. */
export const PUSH_NOT_SUPPORTED = { status: 555, reason: 'Push Notification Service Not Supported' } as const;

/**
 * drachtio-srf refuses to send a status missing from its table of codes (the `sip-status` package),
 * which predates RFC 8599; 555 is added to that table once, before the first REGISTER is answered.
 */
export function registerPushStatusCode(): void {
  const fromSrf = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'));
  const codes = fromSrf('sip-status') as Record<number, string>;
  codes[PUSH_NOT_SUPPORTED.status] ??= PUSH_NOT_SUPPORTED.reason;
}
