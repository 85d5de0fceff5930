import type { DigestServer } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { BanService } from '../access/ban-service.ts';
import type { Directory } from '../directory/directory.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';

export interface AuthenticateCallerDeps {
  digest: DigestServer;
  directory: Directory;
  bans: BanService;
  log: Logger;
}

/**
 * Who is calling: a trusted peer (a configured source, e.g. a PSTN gateway) passes without digest;
 * anyone else must be a subscriber of the From domain and prove it with Proxy-Authorization
 * (RFC 3261 §22.3: a proxy-like element challenges with 407). The identity must be the From user.
 */
export function authenticateCaller({ digest, directory, bans, log }: AuthenticateCallerDeps): Middleware {
  const challenge = (res: Parameters<Middleware>[1], realm: string, stale = false): void =>
    res.send(407, 'Proxy Authentication Required', {
      headers: {
        'Proxy-Authenticate': digest.challenge(realm, { stale }).join('\r\nProxy-Authenticate: '),
      },
    });

  return async (req, res, next) => {
    if (req.locals.source.trusted) return next();
    const { from } = parsedOf(req);
    if (from.uri.kind !== 'sip') return res.send(403, 'Forbidden');
    const realm = from.uri.host.toLowerCase();
    if (!directory.servesDomain(realm)) return res.send(403, 'Forbidden');
    const credentials = req.get('Proxy-Authorization');
    if (!credentials) return challenge(res, realm);
    const result = await digest.verify({
      credentials,
      method: req.method,
      realm,
      requestUri: req.uri,
      lookupHa1: (username, userRealm, algorithm) => {
        const subscriber = directory.findSubscriber(username, userRealm);
        if (!subscriber) return undefined;
        return algorithm === 'MD5'
          ? subscriber.ha1Md5
          : algorithm === 'SHA-256'
            ? subscriber.ha1Sha256
            : undefined;
      },
    });
    if (!result.ok) {
      if (result.stale) return challenge(res, realm, true);
      if (result.reason === 'bad-nonce' || result.reason === 'realm-mismatch') return challenge(res, realm);
      await bans.recordFailure(req.locals.source.address, result.username);
      log.warn(
        { source: req.locals.source.address, user: result.username, reason: result.reason },
        'caller failed authentication',
      );
      return res.send(403, 'Forbidden');
    }
    const subscriber = directory.findSubscriber(result.username, realm);
    if (!subscriber?.enabled || bans.isUserLocked(result.username)) return res.send(403, 'Forbidden');
    if (from.uri.userText !== subscriber.username)
      return res.send(403, 'From does not match the credentials');
    bans.recordSuccess(req.locals.source.address, subscriber.username);
    req.locals.subscriber = subscriber;
    next();
  };
}
