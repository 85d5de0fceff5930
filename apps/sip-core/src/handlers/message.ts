import type { Logger } from 'pino';
import { bestFailure, isWakeTarget, type RingTarget } from '../calls/call-types.ts';
import { type DeviceWaker, deviceTargets } from '../calls/devices.ts';
import type { Directory } from '../directory/directory.ts';
import type { LocationService } from '../location/location-service.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';

/** srf.request as drachtio-srf implements it (its bundled typings declare a different signature). */
export interface MessageRequester {
  request(
    uri: string,
    options: { method: string; proxy?: string; headers?: Record<string, string>; body?: string },
  ): Promise<{ on(event: 'response', listener: (res: { status: number; reason?: string }) => void): void }>;
}

export interface MessageDeps {
  srf: MessageRequester;
  directory: Pick<Directory, 'servesDomain' | 'findSubscriber'>;
  location: Pick<LocationService, 'lookup'>;
  /** Wakes sleeping apps (RFC 8599 §7); unset: every binding is sent to as it is. */
  push?: DeviceWaker | undefined;
  /** Seconds a message waits for an app woken by push (`calls.pushWaitTimeout`, read per message). */
  pushWaitTimeout(): number;
  log: Logger;
}

/** A device that answers nothing: the sender hears 408 well before its own Timer F (RFC 3261 §17.1.2.2). */
const DELIVERY_GUARD_MS = 8_000;

type Outcome = { status: number; reason: string };

/**
 * MESSAGE (RFC 3428) from a subscriber to a subscriber: relayed to every device of the addressed
 * subscriber, a sleeping app after its push wake-up (RFC 8599 §7, the same device targets as a
 * call); the sender gets the first 2xx, else the best failure (480 when nothing is registered or no
 * app woke up in time).
 */
export function messageHandler(deps: MessageDeps): Middleware {
  return async (req, res) => {
    const parsed = parsedOf(req);
    const caller = req.locals.subscriber;
    if (!caller) return res.send(403, 'Forbidden');
    const uri = parsed.requestUri;
    const domain =
      uri.hostType === 'domain' && deps.directory.servesDomain(uri.host)
        ? uri.host.toLowerCase()
        : caller.domain;
    const callee = uri.userText ? deps.directory.findSubscriber(uri.userText, domain) : undefined;
    if (!callee?.enabled) return res.send(404, 'Not Found');
    const aor = `sip:${callee.username}@${callee.domain}`;
    const from = `<sip:${caller.username}@${caller.domain}>`;
    const wake = deps.push && {
      waker: deps.push,
      call: {
        callId: parsed.callId,
        callerName: parsed.from.displayName ?? caller.username,
        callerNumber: caller.username,
        withheld: false,
        kind: 'message' as const,
      },
      timeoutMs: () => deps.pushWaitTimeout() * 1000,
    };
    const targets = deviceTargets(deps.location.lookup(aor), wake);
    if (targets.length === 0) return res.send(480, 'Temporarily Unavailable');
    const message = {
      headers: {
        From: from,
        To: `<${aor}>`,
        'Content-Type': req.get('Content-Type') ?? 'text/plain',
      },
      body: req.srf?.req.body ?? '',
    };
    const deliveries = targets.map((target) => deliver(deps, target, message));
    // The first device that takes it answers the sender; the others still get their copy.
    const accepted = await Promise.any(
      deliveries.map((d) => d.then((o) => (o.status < 300 ? o : Promise.reject(o)))),
    ).catch(() => undefined);
    if (accepted) return res.send(accepted.status, accepted.reason);
    const failure = bestFailure(await Promise.all(deliveries));
    res.send(failure.status, failure.reason);
  };
}

async function deliver(
  deps: MessageDeps,
  ringTarget: RingTarget,
  message: { headers: Record<string, string>; body: string },
): Promise<Outcome> {
  const target = isWakeTarget(ringTarget) ? await ringTarget.ready(new AbortController().signal) : ringTarget;
  if (!target) return { status: 480, reason: 'Temporarily Unavailable' };
  return new Promise<Outcome>((resolve) => {
    const guard = setTimeout(() => resolve({ status: 408, reason: 'Request Timeout' }), DELIVERY_GUARD_MS);
    const done = (outcome: Outcome): void => {
      clearTimeout(guard);
      resolve(outcome);
    };
    deps.srf
      .request(target.uri, {
        method: 'MESSAGE',
        proxy: target.proxy,
        headers: { ...message.headers, 'Max-Forwards': '70' },
        body: message.body,
      })
      .then((sent) =>
        sent.on('response', (r) => {
          if (r.status >= 200) done({ status: r.status, reason: r.reason ?? '' });
        }),
      )
      .catch((error: unknown) => {
        deps.log.info({ err: error, uri: target.uri }, 'MESSAGE not delivered');
        done({ status: 503, reason: 'Service Unavailable' });
      });
  });
}
