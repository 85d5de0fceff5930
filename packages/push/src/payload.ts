import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the app needs to show an incoming call before it has registered. */
export interface CallInfo {
  /** SIP Call-ID of the incoming call (the app matches the INVITE it receives with it). */
  callId: string;
  /** Caller as presented to the callee, after rewrite and privacy rules. */
  callerName?: string | null;
  callerNumber?: string | null;
  /** The caller withheld the identity (CLIR, Privacy: id/user): the app shows "anonymous". */
  withheld: boolean;
  /** What waits for the app: a call (INVITE, default) or a message (MESSAGE, RFC 3428). */
  kind?: 'call' | 'message';
}

/** Shown instead of a withheld caller's name and number. */
export const ANONYMOUS = 'anonymous';

/** Seconds a wake token is valid: long enough to start the app and register. */
export const WAKE_TOKEN_TTL_SECONDS = 60;

/**
 * A short-lived token naming the call, `<expiry>.<mac>`: HMAC-SHA-256 over call id and expiry with
 * a secret shared by the nodes, so any node can check it without shared state. It proves the
 * REGISTER or request that carries it answers this push; it grants nothing else.
 */
export function wakeToken(
  secret: string,
  callId: string,
  nowMs: number,
  ttlSeconds = WAKE_TOKEN_TTL_SECONDS,
): string {
  const expires = Math.floor(nowMs / 1000) + ttlSeconds;
  return `${expires}.${mac(secret, callId, expires)}`;
}

export function verifyWakeToken(secret: string, callId: string, token: string, nowMs: number): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const expires = Number(match[1]);
  if (expires * 1000 < nowMs) return false;
  const expected = Buffer.from(mac(secret, callId, expires));
  const given = Buffer.from(match[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function mac(secret: string, callId: string, expires: number): string {
  return createHmac('sha256', secret).update(`wake\u0000${callId}\u0000${expires}`).digest('base64url');
}

/**
 * The data of a call push. Only presentation data and the call's token: never the SIP password,
 * the AOR's other bindings or anything the caller withheld.
 */
export function callPayload(call: CallInfo, token: string): Record<string, string> {
  return {
    type: call.kind ?? 'call',
    callId: call.callId,
    callerName: call.withheld ? ANONYMOUS : (call.callerName ?? call.callerNumber ?? ANONYMOUS),
    callerNumber: call.withheld ? ANONYMOUS : (call.callerNumber ?? ANONYMOUS),
    token,
  };
}

/** RFC 8599: asks the app to send a binding-refresh REGISTER. */
export function refreshPayload(aor: string): Record<string, string> {
  return { type: 'refresh-registration', aor };
}

/** A push an operator sends to check the credentials and the device. */
export function testPayload(): Record<string, string> {
  return { type: 'test' };
}
