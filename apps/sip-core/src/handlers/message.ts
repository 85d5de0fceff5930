import type { NumberingIndex } from '@switchboard/numbering';
import type { Logger } from 'pino';
import type { RateLimiter } from '../access/rate-limiter.ts';
import type { ClusterRoutes } from '../calls/cluster-route.ts';
import { type DeviceWaker, deviceTargets } from '../calls/devices.ts';
import type { Destination } from '../calls/plan.ts';
import { dialled } from '../calls/stages/classify.ts';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import type { LocationService } from '../location/location-service.ts';
import type { MessagesConfig } from '../messages/messages-config.ts';
import { type MessageRequester, relayToDevices } from '../messages/relay.ts';
import { aorOf, type MessageStore } from '../messages/store.ts';
import { type IncomingRequest, type Middleware, parsedOf, type SipResponse } from '../sip/request.ts';

export type { MessageRequester } from '../messages/relay.ts';

export interface MessageDeps {
  srf: MessageRequester;
  /** Devices registered on other nodes are reached through them; unset: one node. */
  cluster?: ClusterRoutes | undefined;
  directory: Pick<Directory, 'servesDomain' | 'findSubscriber'> & Partial<Pick<Directory, 'upstreamPbx'>>;
  /**
   * A message to a user of a fronted domain goes to its PBX (pbx/message-relay.ts, docs/sbc.md);
   * unset: 404 like any unknown recipient.
   */
  toPbx?: MessageToPbx | undefined;
  location: Pick<LocationService, 'lookup'>;
  /** Numbers (DIDs, aliases) and dialling rules: a recipient is addressed as a call's callee is. */
  numbering?: NumberingIndex | undefined;
  store: MessageStore;
  /** Read per message: an operator's change applies from the next one on. */
  config: MessagesConfig;
  /** Per sending subscriber (`messages.ratePerMinute`). */
  limiter: RateLimiter;
  /** Wakes sleeping apps (RFC 8599 §7); unset: every binding is sent to as it is. */
  push?: DeviceWaker | undefined;
  /** Seconds a message waits for an app woken by push (`calls.pushWaitTimeout`, read per message). */
  pushWaitTimeout(): number;
  log: Logger;
}

/** Sends a subscriber's MESSAGE to a fronted domain's PBX and answers the sender with its status. */
export type MessageToPbx = (
  req: IncomingRequest,
  res: SipResponse,
  destination: Extract<Destination, { kind: 'pbx' }>,
  sender: CachedSubscriber,
) => Promise<void>;

/**
 * MESSAGE (RFC 3428) from a subscriber to a subscriber, addressed like a call (username in our
 * domain or the sender's, or a number through the sender's dialling rules). Another customer's
 * subscriber is reachable only by one of its numbers, as from outside (404 otherwise, so that
 * usernames of other customers cannot be probed). The message goes to every device of the
 * recipient, a sleeping app after its push wake-up (RFC 8599 §7); the sender gets the first 2xx,
 * else the best failure. With no device registered it is stored and the sender gets 202 (RFC 3428
 * §7: accepted, not yet delivered); the recipient's next REGISTER delivers it (messages/queue.ts).
 * Every message is kept for both sides' history.
 */
export function messageHandler(deps: MessageDeps): Middleware {
  return async (req, res) => {
    const parsed = parsedOf(req);
    const caller = req.locals.subscriber;
    if (!caller) return res.send(403, 'Forbidden');
    const body = req.srf?.req.body ?? '';
    // RFC 3428 §7: a message too large for the server is refused with 413.
    if (Buffer.byteLength(body) > deps.config.maxBytes) return res.send(413, 'Request Entity Too Large');
    if (!deps.limiter.take(caller.id)) {
      deps.log.info({ subscriber: caller.id }, 'message refused by the sending rate limit');
      // RFC 3261 §21.5.4: the sender may try again after Retry-After seconds.
      return res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '60' } });
    }
    const destination = dialled(deps, caller, parsed.requestUri);
    if (destination.kind === 'pbx' && deps.toPbx) return deps.toPbx(req, res, destination, caller);
    const callee = destination.kind === 'subscriber' ? destination.subscriber : undefined;
    if (!callee?.enabled) return res.send(404, 'Not Found');
    if (callee.customerId !== caller.customerId && destination.kind === 'subscriber' && !destination.number) {
      deps.log.info({ from: caller.id, to: callee.id }, 'message to another customer by username refused');
      return res.send(404, 'Not Found');
    }
    const aor = aorOf(callee);
    const contentType = req.get('Content-Type') ?? 'text/plain';
    const record = { callId: parsed.callId, sender: caller, recipient: callee, contentType, body };
    const bindings = deps.location.lookup(aor);
    if (bindings.length === 0) {
      await deps.store.record(record);
      deps.log.info({ callId: parsed.callId, to: aor }, 'message queued until the recipient registers');
      return res.send(202, 'Accepted');
    }
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
    const outcome = await relayToDevices(deps, deviceTargets(bindings, wake), {
      headers: { From: `<${aorOf(caller)}>`, To: `<${aor}>`, 'Content-Type': contentType },
      body,
    });
    await deps.store.record(record, outcome);
    res.send(outcome.status, outcome.reason);
  };
}
