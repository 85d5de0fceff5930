import { setTimeout as sleep } from 'node:timers/promises';
import type { DigestFailure, DigestServer, VerifyInput } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { BanService } from '../access/ban-service.ts';
import type { AuthConfig } from '../config.ts';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import { ha1Hex } from '../directory/ha1.ts';
import { replyStateless } from '../sip/reply.ts';
import {
  type IncomingRequest,
  type Middleware,
  type Next,
  parsedOf,
  type SipResponse,
} from '../sip/request.ts';

/** Who is authenticated and how: one digest authenticator for every method (RFC 3261 §22). */
export interface DigestRole {
  /** Whose identity the credentials must prove: the AOR being registered (To) or the sender (From). */
  identity: 'to' | 'from';
  /** 401 + WWW-Authenticate as a registrar (§22.2), 407 + Proxy-Authenticate as a proxy (§22.3). */
  challenge: 401 | 407;
  /** Trusted sources and peers pass without digest: their requests carry no subscriber's identity. */
  admitTrusted: boolean;
}

/** REGISTER: the AOR in To, challenged as the registrar. */
export const REGISTRAR: DigestRole = { identity: 'to', challenge: 401, admitTrusted: false };
/** INVITE and other requests from a subscriber: the From user, challenged as a proxy. */
export const CALLER: DigestRole = { identity: 'from', challenge: 407, admitTrusted: true };

/**
 * Failures that say "wrong credentials": they count toward the address ban and slow the user's
 * failures. The others (stale or foreign nonce, replayed nonce-count, realm of another domain) are
 * what a correct client meets after a restart or a lost packet: they get a fresh challenge, uncounted.
 */
const COUNTED: ReadonlySet<DigestFailure> = new Set<DigestFailure>([
  'bad-response',
  'unknown-user',
  'malformed',
  'not-digest',
  'unsupported-algorithm',
  'unsupported-qop',
]);

/** Answers held for their delay at once; beyond it a failure is answered without delay (memory bound). */
const MAX_HELD = 1000;

export interface AuthenticateDeps {
  digest: DigestServer;
  directory: Directory;
  bans: BanService;
  log: Logger;
  config: { auth: Pick<AuthConfig, 'strictUri'> };
}

const HEADERS = {
  401: { challenge: 'WWW-Authenticate', credentials: 'Authorization', reason: 'Unauthorized' },
  407: {
    challenge: 'Proxy-Authenticate',
    credentials: 'Proxy-Authorization',
    reason: 'Proxy Authentication Required',
  },
} as const;

/** The header a role's credentials come in: what `authenticate` reads, and without which it challenges. */
export function credentialsHeaderOf(role: DigestRole): string {
  return HEADERS[role.challenge].credentials;
}

function ha1Of(subscriber: CachedSubscriber | undefined, algorithm: string): string | undefined {
  if (!subscriber) return undefined;
  return ha1Hex(subscriber.ha1, algorithm);
}

/**
 * One check of a request's credentials, as the digest server's input: the HA1 comes from the directory's
 * cache (or, `fresh`, from the database) and the subscriber it belongs to is kept. A class rather than
 * closures: every authenticated request passes here, and under tsx (which keeps function names) each named
 * closure costs a `defineProperty` (docs/performance.md, "Profile-driven changes").
 */
class CredentialCheck implements VerifyInput {
  found: CachedSubscriber | undefined;
  readonly requestUri?: string;

  constructor(
    private readonly directory: Directory,
    private readonly fresh: boolean,
    readonly credentials: string,
    readonly method: string,
    readonly realm: string,
    requestUri: string | undefined,
  ) {
    if (requestUri !== undefined) this.requestUri = requestUri;
  }

  async lookupHa1(
    username: string,
    realm: string,
    algorithm: Parameters<VerifyInput['lookupHa1']>[2],
  ): Promise<string | undefined> {
    this.found = this.fresh
      ? await this.directory.reload(username, realm)
      : await this.directory.lookup(username, realm);
    return ha1Of(this.found, algorithm);
  }
}

/**
 * Digest authentication against the subscriber's stored HA1 (RFC 3261 §22, RFC 7616), realm = the
 * identity's domain. Challenges and refusals go statelessly (the source is not verified yet). An
 * unknown user and a wrong password look the same from outside (the digest server hashes a decoy for
 * unknown users, then 403); both count toward the address ban and the user's slow-down.
 */
export function authenticate(deps: AuthenticateDeps, role: DigestRole): Middleware {
  const { digest, directory, bans, log } = deps;
  const names = HEADERS[role.challenge];
  let held = 0;
  const challenge = (res: SipResponse, realm: string, stale = false): void =>
    // One challenge header field per algorithm (RFC 8760 §2.4); drachtio-srf writes each header as
    // `name: value`, hence the field separator inside the value.
    replyStateless(res, role.challenge, names.reason, {
      [names.challenge]: digest.challenge(realm, { stale }).join(`\r\n${names.challenge}: `),
    });
  const forbid = (res: SipResponse): void => replyStateless(res, 403, 'Forbidden');

  // Not async itself: the first request of every exchange is challenged without waiting for anything.
  return (req, res, next) => {
    const { source } = req.locals;
    if (role.admitTrusted && source.trusted) return next();
    const parsed = parsedOf(req);
    const identity = role.identity === 'to' ? parsed.to : parsed.from;
    if (identity.uri.kind !== 'sip') return forbid(res);
    const realm = identity.uri.host.toLowerCase();
    const credentials = req.get(names.credentials);
    const user = identity.uri.userText;
    if (directory.servesDomain(realm)) return admit(req, res, next, user, realm, credentials);
    // Not in memory: perhaps created a moment ago, its change still on the way.
    directory.lookupDomain(realm).then(
      (served) => (served ? admit(req, res, next, user, realm, credentials) : forbid(res)),
      (error: unknown) => next(error),
    );
  };

  /** A request in one of our domains: a challenge without credentials, else their check. */
  function admit(
    req: IncomingRequest,
    res: SipResponse,
    next: Next,
    user: string | undefined,
    realm: string,
    credentials: string | undefined,
  ): Promise<void> | void {
    if (!credentials) return challenge(res, realm);
    return verify(req, res, next, user, realm, credentials);
  }

  /** Checks the credentials given for `user` in `realm`: next() only for that enabled subscriber's own. */
  async function verify(
    req: IncomingRequest,
    res: SipResponse,
    next: Next,
    user: string | undefined,
    realm: string,
    credentials: string,
  ): Promise<void> {
    const { source } = req.locals;
    // Without a request URI the digest-uri only has to be the one the response was computed over.
    const requestUri = deps.config.auth.strictUri ? req.uri : undefined;
    let check = new CredentialCheck(directory, false, credentials, req.method, realm, requestUri);
    let result = await digest.verify(check);
    // The cached HA1 may predate a password change the feed has not brought yet: ask the database once.
    if (!result.ok && result.reason === 'bad-response' && check.found) {
      check = new CredentialCheck(directory, true, credentials, req.method, realm, requestUri);
      result = await digest.verify(check);
    }
    const subscriber = check.found;

    if (!result.ok) {
      if (result.stale) return challenge(res, realm, true);
      // RFC 2617 §3.2.2.5: a digest-uri that is not the Request-URI is a bad request (strict mode only).
      if (result.reason === 'uri-mismatch') return replyStateless(res, 400, 'Digest URI Mismatch');
      if (!COUNTED.has(result.reason)) return challenge(res, realm);
      const outcome = await bans.recordFailure(source.address, result.username);
      log.warn(
        { source: source.address, user: result.username, realm, reason: result.reason, ...outcome },
        'authentication failed',
      );
      if (outcome.delayMs > 0 && held < MAX_HELD) {
        held += 1;
        await sleep(outcome.delayMs).finally(() => {
          held -= 1;
        });
      }
      return forbid(res);
    }
    if (!subscriber?.enabled) {
      log.info({ source: source.address, user: result.username, realm }, 'disabled subscriber refused');
      return forbid(res);
    }
    // The credentials must be those of the identity: the AOR registered (RFC 3261 §10.3 step 3) or the
    // caller named in From.
    if (user !== subscriber.username) return forbid(res);
    bans.recordSuccess(source.address, subscriber.username);
    req.locals.subscriber = subscriber;
    next();
  }
}
