import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { Directory } from '../directory/directory.ts';
import { BODY_TYPES } from '../presence/documents.ts';
import type { PresenceService } from '../presence/presence-service.ts';
import {
  ALLOW_EVENTS,
  acceptable,
  eventPackageOf,
  grantedSeconds,
  mayWatchEvent,
  partyOf,
  presentityOf,
  Refusal,
} from '../presence/requests.ts';
import type { NotifyChannel, Subscription } from '../presence/store.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';

/** drachtio-srf's SUBSCRIBE dialog as used here (its typings omit `request`'s promise form's status). */
interface SubscriptionDialog {
  request(options: {
    method: string;
    headers: Record<string, string>;
    body: string;
  }): Promise<{ status: number }>;
  on(event: 'subscribe', listener: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void;
  on(event: 'unsubscribe' | 'destroy', listener: () => void): void;
}

/** srf.createUAS as it works for SUBSCRIBE (its bundled typings require an SDP, which only INVITE has). */
export interface SubscriptionAcceptor {
  createUAS(
    req: Srf.SrfRequest,
    res: Srf.SrfResponse,
    options: { headers: Record<string, string> },
  ): Promise<unknown>;
}

export interface SubscribeDeps {
  srf: SubscriptionAcceptor;
  presence: PresenceService;
  directory: Pick<Directory, 'servesDomain' | 'findSubscriber'>;
  log: Logger;
}

/**
 * SUBSCRIBE (RFC 6665 §4.2.1) for `presence` (RFC 3856) and `dialog` (RFC 4235) from an authenticated
 * subscriber: the package, the interval, the presentity, the watcher's right to see it and its
 * number of subscriptions are checked, then the 202 creates the subscription dialog and the first
 * NOTIFY follows at once. Refreshes and the unsubscribe come inside that dialog.
 */
export function subscribeHandler(deps: SubscribeDeps): Middleware {
  const { presence } = deps;
  return async (req, res) => {
    if (!req.srf) throw new Error('SUBSCRIBE without its drachtio-srf request and response');
    // A trusted source passes authentication without being a subscriber: it has no presence rights.
    const watcherRow = req.locals.subscriber;
    if (!watcherRow) return res.send(403, 'Forbidden');
    try {
      const event = eventPackageOf((name) => req.get(name));
      if (!acceptable(req, BODY_TYPES[event])) throw new Refusal(406, 'Not Acceptable');
      const seconds = grantedSeconds(req.get('Expires'), presence.config);
      const watcher = partyOf(watcherRow);
      const presentity = partyOf(presentityOf(parsedOf(req), watcherRow, deps.directory));
      // The NOTIFYs go to the watcher's Contact (RFC 6665 §4.1.2: mandatory in SUBSCRIBE).
      if (!req.has('Contact')) throw new Refusal(400, 'Missing Contact');
      if (!mayWatchEvent(event, watcher, presentity, presence.config)) throw new Refusal(403, 'Forbidden');
      if (seconds > 0 && presence.store.countOf(watcher.id) >= presence.config.maxSubscriptionsPerSubscriber)
        throw new Refusal(403, 'Too Many Subscriptions');
      const { req: srfReq, res: srfRes } = req.srf;
      const dialog = (await deps.srf.createUAS(srfReq, srfRes, {
        headers: { Expires: String(seconds), 'Allow-Events': ALLOW_EVENTS },
      })) as unknown as SubscriptionDialog;
      const channel = channelOf(dialog);
      if (seconds === 0) {
        // A fetch (RFC 6665 §4.4.3): one NOTIFY with the state, terminated.
        presence.fetch(event, watcher, presentity, channel);
        return;
      }
      const subscription = presence.subscribe(event, watcher, presentity, channel, seconds);
      subscription.source = `${srfReq.source_address}:${srfReq.source_port}`;
      follow(deps, dialog, subscription);
      deps.log.info(
        { event, watcher: watcher.aor, presentity: presentity.aor, expires: seconds },
        'subscription started',
      );
    } catch (error) {
      if (error instanceof Refusal) return res.send(error.status, error.reason, { headers: error.headers });
      throw error;
    }
  };
}

function channelOf(dialog: SubscriptionDialog): NotifyChannel {
  return {
    notify: async (headers, body) => {
      const answer = await dialog.request({ method: 'NOTIFY', headers, body });
      if (answer.status >= 300) throw new Error(`NOTIFY answered ${answer.status}`);
    },
    drop: () => undefined,
  };
}

/** The subscription's own dialog: refreshes, the unsubscribe (drachtio-srf answers it 202), its end. */
function follow(deps: SubscribeDeps, dialog: SubscriptionDialog, subscription: Subscription): void {
  const { presence } = deps;
  dialog.on('subscribe', (req, res) => {
    try {
      const seconds = grantedSeconds(req.get('Expires'), presence.config);
      res.send(200, { headers: { Expires: String(seconds) } });
      if (seconds === 0) presence.end(subscription, undefined);
      else presence.refresh(subscription, seconds);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      res.send(error.status, error.reason, { headers: error.headers });
    }
  });
  dialog.on('unsubscribe', () => {
    deps.log.info({ presentity: subscription.presentity.aor, event: subscription.event }, 'unsubscribed');
    presence.end(subscription, undefined);
  });
  dialog.on('destroy', () => presence.forget(subscription));
}
