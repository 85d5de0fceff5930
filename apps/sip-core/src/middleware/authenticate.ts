import { randomBytes } from 'node:crypto';
import type { DigestFailure, DigestServer } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { BanService } from '../access/ban-service.ts';
import type { Directory } from '../directory/directory.ts';
import { type Middleware, parsedOf, type SipResponse } from '../sip/request.ts';

/** Failures that say "wrong credentials" and count toward a ban; the rest just get a new challenge. */
const COUNTED: ReadonlySet<DigestFailure> = new Set<DigestFailure>([
  'bad-response',
  'unknown-user',
  'malformed',
  'not-digest',
  'unsupported-algorithm',
  'unsupported-qop',
  'uri-mismatch',
]);

/**
 * HA1 values used for users that do not exist: verification then runs the same hash comparison and
 * ends in the same `bad-response` as a wrong password, so neither the answer nor its timing tells
 * an attacker whether the user exists.
 */
const DECOY_HA1 = {
  MD5: randomBytes(16).toString('hex'),
  'SHA-256': randomBytes(32).toString('hex'),
  'SHA-512-256': randomBytes(32).toString('hex'),
} as const;

export interface AuthenticateDeps {
  digest: DigestServer;
  directory: Directory;
  bans: BanService;
  log: Logger;
}

function challenge(res: SipResponse, digest: DigestServer, realm: string, stale = false): void {
  // One WWW-Authenticate header field per algorithm (RFC 8760 §2.4): a challenge is not a list
  // element, so they cannot share one field. drachtio-srf writes each header as `name: value`,
  // hence the field separator inside the value.
  res.send(401, 'Unauthorized', {
    headers: { 'WWW-Authenticate': digest.challenge(realm, { stale }).join('\r\nWWW-Authenticate: ') },
  });
}

/**
 * Digest authentication of a REGISTER against the subscriber's stored HA1 (RFC 3261 §22, RFC 7616,
 * realm = the AOR's domain). Unknown user and wrong password look the same from outside: a normal
 * challenge, then 403. Each failure counts toward the address ban and the username lock.
 */
export function authenticate({ digest, directory, bans, log }: AuthenticateDeps): Middleware {
  return async (req, res, next) => {
    const { to } = parsedOf(req);
    const { source } = req.locals;
    if (to.uri.kind !== 'sip') return res.send(403, 'Forbidden');
    const realm = to.uri.host.toLowerCase();
    const credentials = req.get('Authorization');
    if (!credentials) return challenge(res, digest, realm);

    const result = await digest.verify({
      credentials,
      method: req.method,
      realm,
      requestUri: req.uri,
      lookupHa1: (username, userRealm, algorithm) => {
        const subscriber = directory.findSubscriber(username, userRealm);
        if (!subscriber) return DECOY_HA1[algorithm];
        return algorithm === 'MD5'
          ? subscriber.ha1Md5
          : algorithm === 'SHA-256'
            ? subscriber.ha1Sha256
            : undefined;
      },
    });

    if (!result.ok) {
      if (result.stale) return challenge(res, digest, realm, true);
      if (!COUNTED.has(result.reason)) return challenge(res, digest, realm);
      const outcome = await bans.recordFailure(source.address, result.username);
      log.warn(
        { source: source.address, user: result.username, realm, reason: result.reason, ...outcome },
        'authentication failed',
      );
      return res.send(403, 'Forbidden');
    }

    const subscriber = directory.findSubscriber(result.username, realm);
    if (!subscriber?.enabled || bans.isUserLocked(result.username)) {
      log.info(
        { source: source.address, user: result.username, realm },
        'authenticated user may not register',
      );
      if (!subscriber) await bans.recordFailure(source.address, result.username);
      return res.send(403, 'Forbidden');
    }
    // The credentials must be those of the AOR being registered (RFC 3261 §10.3 step 3).
    if (to.uri.userText !== subscriber.username) return res.send(403, 'Forbidden');
    bans.recordSuccess(source.address, subscriber.username);
    req.locals.subscriber = subscriber;
    next();
  };
}
