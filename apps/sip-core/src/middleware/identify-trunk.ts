import type { Directory } from '../directory/directory.ts';
import type { Middleware } from '../sip/request.ts';

/** Source address -> the subscriber a customer's IP-authenticated trunk calls as (wholesale/). */
export interface TrunkSources {
  trunkSubscriberAt(address: string): string | null;
}

/**
 * After peer identification: a request from a customer trunk's trusted source (docs/billing.md,
 * "Carrier customers") is that trunk's subscriber, without digest, as a registered PBX would be after
 * authenticating; its calls are then routed and billed as the customer's. A peer gateway's address
 * stays a peer. A disabled or unknown subscriber leaves the request to digest authentication.
 */
export function identifyTrunk(
  trunks: TrunkSources,
  directory: Pick<Directory, 'subscriberById'>,
): Middleware {
  return (req, _res, next) => {
    const { source } = req.locals;
    if (source.peer) return next();
    const subscriberId = trunks.trunkSubscriberAt(source.address);
    const subscriber = subscriberId ? directory.subscriberById(subscriberId) : undefined;
    if (subscriber?.enabled) {
      req.locals.subscriber = subscriber;
      source.trusted = true;
    }
    next();
  };
}
