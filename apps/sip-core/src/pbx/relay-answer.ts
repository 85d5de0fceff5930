import type { BanService } from '../access/ban-service.ts';
import type { IncomingRequest } from '../sip/request.ts';
import type { SrfResponse } from '../sip/srf-request.ts';

/** Response headers a phone needs from the PBX's answer (challenge, interval, time). */
export const RELAYED_HEADERS = [
  'WWW-Authenticate',
  'Proxy-Authenticate',
  'Min-Expires',
  'Date',
  'Retry-After',
];

/** The headers of `answer` a phone gets back with the PBX's status (RELAYED_HEADERS). */
export function relayedHeaders(answer: SrfResponse): Record<string, string> {
  const relayed: Record<string, string> = {};
  for (const name of RELAYED_HEADERS) {
    const value = answer.get(name);
    if (value !== undefined) relayed[name] = value;
  }
  return relayed;
}

/**
 * Credentials a phone sent on and the PBX did not take (a new challenge, 401 or 407 without
 * `stale=true` (RFC 7616 §3.3), or 403) count towards the source's ban like a refusal of our own; a
 * success resets its count.
 */
export async function countCredentials(
  bans: Pick<BanService, 'recordFailure' | 'recordSuccess'>,
  req: IncomingRequest,
  user: string,
  answer: SrfResponse,
): Promise<void> {
  if (!req.has('Authorization') && !req.has('Proxy-Authorization')) return;
  const challenge = `${answer.get('WWW-Authenticate') ?? ''} ${answer.get('Proxy-Authenticate') ?? ''}`;
  const stale = /stale\s*=\s*"?true/i.test(challenge);
  const address = req.locals.source.address;
  if (((answer.status === 401 || answer.status === 407) && !stale) || answer.status === 403)
    await bans.recordFailure(address, user);
  else if (answer.status < 300) bans.recordSuccess(address, user);
}
