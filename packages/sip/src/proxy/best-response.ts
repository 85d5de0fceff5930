import { createResponse } from '../messages/builders.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';

/** 4xx responses §16.7 step 6 prefers, because the UAC can act on them. */
const PREFERRED = [401, 407, 415, 420, 484];

/**
 * How a proxy picks the final response it sends upstream. `rfc3261` is §16.7 steps 6-7 as below.
 * `lowest-status` is what drachtio-server apps see: a 6xx wins, else the lowest status code goes upstream
 * unchanged (a 503 stays a 503, each challenge stays alone).
 */
export type BestResponseRule = 'rfc3261' | 'lowest-status';

/**
 * Chooses the final response a stateful proxy sends upstream when all branches are done (RFC 3261 §16.7
 * step 6-7): a 6xx wins; otherwise the lowest class, preferring 401/407/415/420/484 among 4xx; no final
 * response at all is a 408; a chosen 503 becomes 500; 401/407 carry every branch's challenges.
 */
export function chooseBestResponse(
  request: SipRequest,
  finals: SipResponse[],
  rule: BestResponseRule = 'rfc3261',
): SipResponse {
  const candidates = finals.filter((r) => r.status >= 300);
  if (candidates.length === 0) {
    const success = finals.find((r) => r.status >= 200 && r.status < 300);
    return success ?? createResponse(request, 408, { toTag: request.toTag });
  }
  const sixxx = candidates.find((r) => r.status >= 600);
  let chosen: SipResponse;
  if (sixxx) {
    chosen = sixxx;
  } else if (rule === 'lowest-status') {
    return candidates.reduce((a, b) => (b.status < a.status ? b : a)).clone();
  } else {
    const lowestClass = Math.min(...candidates.map((r) => Math.floor(r.status / 100)));
    const inClass = candidates.filter((r) => Math.floor(r.status / 100) === lowestClass);
    chosen = inClass.find((r) => PREFERRED.includes(r.status)) ?? inClass[0]!;
  }
  const out = chosen.clone();
  if (out.status === 503) {
    // §16.7 step 6: a 503 means this proxy's next hops are unavailable, not the upstream one: send 500.
    out.setStatus(500);
  }
  if (out.status === 401 || out.status === 407) {
    // §16.7 step 7: collect every WWW-Authenticate and Proxy-Authenticate from the other challenges.
    for (const r of candidates) {
      if (r === chosen || (r.status !== 401 && r.status !== 407)) continue;
      for (const name of ['WWW-Authenticate', 'Proxy-Authenticate']) {
        for (const value of r.getHeaders(name)) out.appendHeader(name, value);
      }
    }
  }
  return out;
}
