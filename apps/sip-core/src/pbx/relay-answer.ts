import type { Logger } from 'pino';
import type { BanService } from '../access/ban-service.ts';
import type { IncomingRequest, SipResponse } from '../sip/request.ts';
import {
  type OutOfDialogRequest,
  requestFinal,
  type SrfRequester,
  type SrfResponse,
} from '../sip/srf-request.ts';

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

/**
 * Sends a relayed request outside a dialog and answers the sender with the far end's final status and
 * RELAYED_HEADERS; none within `timeoutMs` is a 408. Resolves with the far end's answer, if any.
 */
export async function relayFinal(
  deps: { srf: SrfRequester; log: Logger },
  res: SipResponse,
  uri: string,
  request: OutOfDialogRequest,
  timeoutMs: number,
): Promise<SrfResponse | undefined> {
  try {
    const answer = await requestFinal(
      deps.srf,
      uri,
      request,
      timeoutMs,
      `no answer to a relayed ${request.method}`,
    );
    res.send(answer.status, answer.reason ?? '', { headers: relayedHeaders(answer) });
    return answer;
  } catch (error) {
    deps.log.info({ err: error, uri, method: request.method }, 'relayed request not answered');
    res.send(408, 'Request Timeout');
    return undefined;
  }
}
