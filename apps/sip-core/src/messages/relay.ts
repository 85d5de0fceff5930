import type { Logger } from 'pino';
import { bestFailure, isWakeTarget, type RingTarget } from '../calls/call-types.ts';
import type { ClusterRoutes } from '../calls/cluster-route.ts';
import type { SrfRequester } from '../sip/srf-request.ts';

/** srf.request in its callback form (sip/srf-request.ts). */
export type MessageRequester = SrfRequester;

/** A final answer to a MESSAGE. */
export interface Outcome {
  status: number;
  reason: string;
}

/** One MESSAGE as it is sent to each device. */
export interface OutgoingMessage {
  headers: Record<string, string>;
  body: string;
}

/** A device that answers nothing: the sender hears 408 well before its own Timer F (RFC 3261 §17.1.2.2). */
const DELIVERY_GUARD_MS = 8_000;

/**
 * Sends `message` to every target at once (a sleeping app after its push wake-up, RFC 8599 §7): the
 * first 2xx is the outcome, the other devices still get their copy; else the best failure, 480 when
 * there is no target at all.
 */
export async function relayToDevices(
  deps: RelayDeps,
  targets: RingTarget[],
  message: OutgoingMessage,
): Promise<Outcome> {
  if (targets.length === 0) return { status: 480, reason: 'Temporarily Unavailable' };
  const deliveries = targets.map((target) => deliver(deps, target, message));
  const accepted = await Promise.any(
    deliveries.map((d) => d.then((o) => (o.status < 300 ? o : Promise.reject(o)))),
  ).catch(() => undefined);
  return accepted ?? bestFailure(await Promise.all(deliveries));
}

/** What relaying needs: the engine connection, and the cluster's nodes (unset: one node). */
export interface RelayDeps {
  srf: MessageRequester;
  log: Logger;
  cluster?: ClusterRoutes | undefined;
}

async function deliver(deps: RelayDeps, ringTarget: RingTarget, message: OutgoingMessage): Promise<Outcome> {
  const reached = isWakeTarget(ringTarget)
    ? await ringTarget.ready(new AbortController().signal)
    : ringTarget;
  if (!reached) return { status: 480, reason: 'Temporarily Unavailable' };
  // A device of another node: through that node's engine, with its Route (calls/cluster-route.ts).
  const target = deps.cluster?.route(reached) ?? reached;
  const route = target.headers?.Route;
  return new Promise<Outcome>((resolve) => {
    const guard = setTimeout(() => resolve({ status: 408, reason: 'Request Timeout' }), DELIVERY_GUARD_MS);
    const done = (outcome: Outcome): void => {
      clearTimeout(guard);
      resolve(outcome);
    };
    const failed = (error: unknown): void => {
      deps.log.info({ err: error, uri: target.uri }, 'MESSAGE not delivered');
      done({ status: 503, reason: 'Service Unavailable' });
    };
    try {
      deps.srf.request(
        target.uri,
        {
          method: 'MESSAGE',
          proxy: target.proxy,
          headers: { ...message.headers, ...(route ? { Route: route } : {}), 'Max-Forwards': '70' },
          body: message.body,
        },
        (error, sent) => {
          if (error) return failed(error);
          sent.on('response', (r) => {
            if (r.status >= 200) done({ status: r.status, reason: r.reason ?? '' });
          });
        },
      );
    } catch (error) {
      // drachtio-srf throws when it has no engine connection to send on.
      failed(error);
    }
  });
}
