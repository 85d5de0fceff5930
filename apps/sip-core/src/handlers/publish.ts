import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { PIDF_TYPE } from '../presence/documents.ts';
import type { PresenceService } from '../presence/presence-service.ts';
import { eventPackageOf, grantedSeconds, partyOf, Refusal } from '../presence/requests.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';

/** Largest PIDF document accepted; a phone's own state is a few hundred bytes. */
export const MAX_PUBLICATION_BYTES = 16_384;

export interface PublishDeps {
  presence: PresenceService;
  log: Logger;
}

function newEtag(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * PUBLISH (RFC 3903) of a subscriber's own presence: a device's PIDF document replaces the state the
 * platform derives until it expires or is removed. Initial (a body, no SIP-If-Match), refresh
 * (SIP-If-Match, no body), modify (both) and remove (SIP-If-Match, Expires: 0), §4. An entity tag that
 * is not known is 412 (§6 step 4).
 */
export function publishHandler(deps: PublishDeps): Middleware {
  const { presence } = deps;
  return (req, res) => {
    // A trusted source passes authentication without being a subscriber: it has no presence to publish.
    const subscriber = req.locals.subscriber;
    if (!subscriber) return res.send(403, 'Forbidden');
    try {
      const event = eventPackageOf((name) => req.get(name));
      if (event !== 'presence') throw new Refusal(489, 'Bad Event', { 'Allow-Events': 'presence' });
      const publisher = partyOf(subscriber);
      // The Request-URI must be the publisher's own address: a device publishes for itself only.
      if (parsedOf(req).requestUri.userText !== subscriber.username) throw new Refusal(403, 'Forbidden');
      const seconds = grantedSeconds(req.get('Expires'), presence.config);
      const ifMatch = req.get('SIP-If-Match')?.trim();
      const body = req.srf?.req.body ?? '';
      const hasBody = body.trim() !== '';
      if (hasBody) {
        const type = req.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
        if (type !== PIDF_TYPE) throw new Refusal(415, 'Unsupported Media Type', { Accept: PIDF_TYPE });
        if (Buffer.byteLength(body) > MAX_PUBLICATION_BYTES)
          throw new Refusal(413, 'Request Entity Too Large');
        if (!/<(?:[\w-]+:)?presence[\s>]/.test(body)) throw new Refusal(400, 'Not A PIDF Document');
      }
      const existing = ifMatch ? presence.store.publication(publisher.id, ifMatch) : undefined;
      if (ifMatch && !existing) throw new Refusal(412, 'Conditional Request Failed');
      if (!ifMatch && !hasBody) throw new Refusal(400, 'Missing Body');
      if (seconds === 0) {
        if (!ifMatch) throw new Refusal(400, 'Nothing To Remove');
        presence.unpublish(publisher.id, ifMatch);
        presence.publicationChanged(publisher.id);
        return res.send(200, 'OK', { headers: { 'SIP-ETag': ifMatch, Expires: '0' } });
      }
      // A new entity tag for every change (§6 step 7); the old one stops matching.
      const etag = newEtag();
      const document = hasBody ? body : (existing?.body ?? '');
      presence.publish(
        publisher.id,
        { etag, body: document, expiresAt: Date.now() + seconds * 1000 },
        ifMatch,
      );
      if (hasBody) presence.publicationChanged(publisher.id);
      deps.log.info({ presentity: publisher.aor, expires: seconds, refresh: !hasBody }, 'presence published');
      res.send(200, 'OK', { headers: { 'SIP-ETag': etag, Expires: String(seconds) } });
    } catch (error) {
      if (error instanceof Refusal) return res.send(error.status, error.reason, { headers: error.headers });
      throw error;
    }
  };
}
