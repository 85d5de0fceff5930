import { parseDeltaSeconds } from '@switchboard/sip';
import type { PresenceConfig } from '../config.ts';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import type { IncomingRequest, ParsedRequest } from '../sip/request.ts';
import type { EventPackage, Party } from './store.ts';

/** The event packages this notifier serves (RFC 6665 §8.2: the Allow-Events list). */
export const PACKAGES: readonly EventPackage[] = ['presence', 'dialog', 'message-summary'];
export const ALLOW_EVENTS = PACKAGES.join(', ');

/** A request refused with a status, reason and headers (e.g. 423's Min-Expires). */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }
}

/** The package named by the Event header (RFC 6665 §8.2.1: a token, its parameters ignored here); else 489. */
export function eventPackageOf(get: (name: string) => string | undefined): EventPackage {
  const event = get('Event')?.split(';')[0]?.trim();
  const known = PACKAGES.find((p) => p === event);
  if (!known) throw new Refusal(489, 'Bad Event', { 'Allow-Events': ALLOW_EVENTS });
  return known;
}

/**
 * The interval granted: what the request asks (or the default), at most `maxExpires`; 0 stays 0 (an
 * unsubscribe or a fetch); below `minExpires` is 423 with Min-Expires (RFC 6665 §4.2.1.1, RFC 3903 §6).
 */
export function grantedSeconds(raw: string | undefined, config: PresenceConfig): number {
  let asked: number;
  try {
    asked = raw === undefined ? config.defaultExpires : parseDeltaSeconds(raw.trim(), 'expires');
  } catch {
    throw new Refusal(400, 'Bad Expires');
  }
  if (asked === 0) return 0;
  if (asked < config.minExpires)
    throw new Refusal(423, 'Interval Too Brief', { 'Min-Expires': String(config.minExpires) });
  return Math.min(asked, config.maxExpires);
}

export function partyOf(
  subscriber: Pick<CachedSubscriber, 'id' | 'customerId' | 'username' | 'domain'>,
): Party {
  return {
    id: subscriber.id,
    customerId: subscriber.customerId,
    aor: `sip:${subscriber.username}@${subscriber.domain}`,
  };
}

/**
 * The presentity the Request-URI names (RFC 3856 §5.1.1): a subscriber of a domain we serve; a bare
 * user part is looked up in the watcher's own domain. Unknown or disabled: 404.
 */
export function presentityOf(
  parsed: ParsedRequest,
  watcher: CachedSubscriber,
  directory: Pick<Directory, 'servesDomain' | 'findSubscriber'>,
): CachedSubscriber {
  const uri = parsed.requestUri;
  const domain =
    uri.hostType === 'domain' && directory.servesDomain(uri.host) ? uri.host.toLowerCase() : watcher.domain;
  const found = uri.userText ? directory.findSubscriber(uri.userText, domain) : undefined;
  if (!found?.enabled) throw new Refusal(404, 'Not Found');
  return found;
}

/**
 * Whether `watcher` may see `presentity` (RFC 3856 §5.1.2, §8.2): oneself and the subscribers of one's
 * own customer; those of every customer only when the operator allows it (`presence.acrossCustomers`).
 */
export function mayWatch(
  watcher: Party,
  presentity: Party,
  config: Pick<PresenceConfig, 'acrossCustomers'>,
): boolean {
  return watcher.customerId === presentity.customerId || config.acrossCustomers;
}

/** RFC 3842 §4: a mailbox's message-summary is its owner's only (nobody else's phone lights up). */
export function mayWatchEvent(
  event: EventPackage,
  watcher: Party,
  presentity: Party,
  config: Pick<PresenceConfig, 'acrossCustomers'>,
): boolean {
  if (event === 'message-summary') return watcher.id === presentity.id;
  return mayWatch(watcher, presentity, config);
}

/** 406 when the watcher's Accept names neither the package's body type nor a wildcard (RFC 6665 §4.1.2). */
export function acceptable(req: Pick<IncomingRequest, 'get'>, type: string): boolean {
  const accept = req.get('Accept');
  if (accept === undefined || accept.trim() === '') return true;
  return accept
    .split(',')
    .map((a) => a.split(';')[0]?.trim().toLowerCase())
    .some((a) => a === type || a === '*/*' || a === `${type.split('/')[0]}/*`);
}
