import { describe, expect, it } from 'vitest';
import {
  computeDigestAuthorization,
  DigestClient,
  DigestServer,
  digestHa1,
  digestResponse,
  MemoryNonceCounts,
  type NonceCounts,
  parseAuthHeader,
  selectChallenge,
} from '../src/index.ts';

describe('known answers', () => {
  it('RFC 2617 §3.5 (MD5, qop=auth)', () => {
    const ha1 = digestHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(ha1).toBe('939e7578ed9e3c518a452acee763bce9');
    const response = digestResponse({
      algorithm: 'MD5',
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  const rfc7616 = {
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  };

  it('RFC 7616 §3.9.1 (MD5 and SHA-256)', () => {
    for (const [algorithm, expected] of [
      ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
      ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ] as const) {
      const header = computeDigestAuthorization({
        challenge: `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="${rfc7616.nonce}", opaque="${rfc7616.opaque}"`,
        method: 'GET',
        uri: '/dir/index.html',
        username: 'Mufasa',
        password: 'Circle of Life',
        cnonce: rfc7616.cnonce,
      });
      const p = parseAuthHeader(header, 'authorization').params;
      expect(p.response).toBe(expected);
      expect(p.qop).toBe('auth');
      expect(p.nc).toBe('00000001');
      expect(p.opaque).toBe(rfc7616.opaque);
      expect(p.algorithm).toBe(algorithm);
      expect(p.uri).toBe('/dir/index.html');
    }
  });

  it('ha1 can replace the password on the client', () => {
    const common = {
      challenge: 'Digest realm="r", nonce="n", algorithm=MD5, qop="auth"',
      method: 'REGISTER',
      uri: 'sip:r',
      username: 'u',
      cnonce: 'c',
    };
    expect(computeDigestAuthorization({ ...common, password: 'p' })).toBe(
      computeDigestAuthorization({ ...common, ha1: digestHa1('MD5', 'u', 'r', 'p') }),
    );
  });

  it('RFC 2069 compatibility when no qop is offered, and -sess algorithms', () => {
    const legacy = computeDigestAuthorization({
      challenge: 'Digest realm="r", nonce="n"',
      method: 'INVITE',
      uri: 'sip:b@r',
      username: 'u',
      password: 'p',
    });
    const ha1 = digestHa1('MD5', 'u', 'r', 'p');
    expect(parseAuthHeader(legacy, 'x').params.response).toBe(
      digestResponse({ algorithm: 'MD5', ha1, nonce: 'n', method: 'INVITE', uri: 'sip:b@r' }),
    );
    expect(legacy).not.toContain('qop=');
    const sess = computeDigestAuthorization({
      challenge: 'Digest realm="r", nonce="n", algorithm=MD5-sess, qop="auth"',
      method: 'INVITE',
      uri: 'sip:b@r',
      username: 'u',
      password: 'p',
      cnonce: 'cn',
    });
    expect(sess).toContain('algorithm=MD5-sess');
  });
});

describe('DigestServer', () => {
  let clock = 1_700_000_000_000;
  const server = new DigestServer({ secret: 'a-very-secret-shared-key', now: () => clock });
  const realm = 'example.com';
  const users: Record<string, string> = { alice: 'wonderland' };
  const lookupHa1 = (username: string, r: string, algorithm: 'MD5' | 'SHA-256' | 'SHA-512-256') => {
    const pw = users[username];
    return pw === undefined ? undefined : digestHa1(algorithm, username, r, pw);
  };
  const answer = (challenge: string, extra: Partial<Parameters<typeof computeDigestAuthorization>[0]> = {}) =>
    computeDigestAuthorization({
      challenge,
      method: 'REGISTER',
      uri: 'sip:example.com',
      username: 'alice',
      password: 'wonderland',
      ...extra,
    });

  it('offers SHA-256 then MD5 with one nonce, qop=auth', () => {
    const [sha, md5] = server.challenge(realm);
    const a = parseAuthHeader(sha as string, 'www-authenticate');
    const b = parseAuthHeader(md5 as string, 'www-authenticate');
    expect(a.params.algorithm).toBe('SHA-256');
    expect(b.params.algorithm).toBe('MD5');
    expect(a.params.nonce).toBe(b.params.nonce);
    expect(a.params.qop).toBe('auth');
    expect(a.params.realm).toBe(realm);
    expect(a.params.stale).toBeUndefined();
    expect(server.challenge(realm, { stale: true })[0]).toContain('stale=true');
  });

  it('accepts correct SHA-256 and MD5 answers without storing passwords', async () => {
    for (const index of [0, 1]) {
      // one nonce is shared by both challenges: a client answers one of them, so take a fresh pair each time
      const challenge = server.challenge(realm)[index] as string;
      const result = await server.verify({
        credentials: answer(challenge),
        method: 'REGISTER',
        realm,
        requestUri: 'sip:example.com',
        lookupHa1,
      });
      expect(result).toMatchObject({ ok: true, username: 'alice', qop: 'auth' });
    }
  });

  it('the client prefers SHA-256 when both are offered', () => {
    const chosen = selectChallenge(server.challenge(realm).reverse());
    expect(chosen?.params.algorithm).toBe('SHA-256');
    expect(
      selectChallenge(['Basic realm="x"', 'Digest realm="x", nonce="n", algorithm=UNKNOWN']),
    ).toBeUndefined();
  });

  it('rejects a wrong password, unknown user, other realm, forged nonce', async () => {
    const challenge = server.challenge(realm)[0] as string;
    const verify = (credentials: string, r = realm) =>
      server.verify({ credentials, method: 'REGISTER', realm: r, lookupHa1 });
    expect(await verify(answer(challenge, { password: 'nope' }))).toMatchObject({
      ok: false,
      reason: 'bad-response',
      stale: false,
    });
    expect(await verify(answer(challenge, { username: 'mallory' }))).toMatchObject({
      ok: false,
      reason: 'unknown-user',
    });
    expect(await verify(answer(challenge), 'other.com')).toMatchObject({
      ok: false,
      reason: 'realm-mismatch',
    });
    const forged = challenge.replace(/nonce="([^"]+)"/, (_m, n: string) => `nonce="${n.slice(0, -2)}AA"`);
    expect(await verify(answer(forged))).toMatchObject({ ok: false, reason: 'bad-nonce', stale: false });
    expect(await verify('Digest username="alice"')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(await verify('Digest username="alice", realm=')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(await verify('Basic YWxpY2U6d29uZGVybGFuZA==')).toMatchObject({ ok: false, reason: 'not-digest' });
    const noQop = answer(challenge.replace(', qop="auth"', ''));
    expect(await verify(noQop)).toMatchObject({ ok: false, reason: 'unsupported-qop' });
  });

  it('a nonce from another realm is not valid here', async () => {
    const other = server.challenge('other.com')[0] as string;
    const creds = answer(other).replace('realm="other.com"', `realm="${realm}"`);
    expect(await server.verify({ credentials: creds, method: 'REGISTER', realm, lookupHa1 })).toMatchObject({
      reason: 'bad-nonce',
    });
  });

  it('digest uri must designate the Request-URI', async () => {
    const challenge = server.challenge(realm)[0] as string;
    const creds = answer(challenge, { uri: 'sip:elsewhere.com' });
    expect(
      await server.verify({
        credentials: creds,
        method: 'REGISTER',
        realm,
        requestUri: 'sip:example.com',
        lookupHa1,
      }),
    ).toMatchObject({
      reason: 'uri-mismatch',
    });
    const equivalent = answer(challenge, { uri: 'sip:EXAMPLE.com' });
    expect(
      await server.verify({
        credentials: equivalent,
        method: 'REGISTER',
        realm,
        requestUri: 'sip:example.com',
        lookupHa1,
      }),
    ).toMatchObject({
      ok: true,
    });
  });

  it('stale nonces: correct credentials get stale=true, wrong ones do not', async () => {
    const challenge = server.challenge(realm)[0] as string;
    clock += 301_000;
    try {
      const good = await server.verify({
        credentials: answer(challenge),
        method: 'REGISTER',
        realm,
        lookupHa1,
      });
      expect(good).toMatchObject({ ok: false, reason: 'bad-nonce', stale: true });
      const bad = await server.verify({
        credentials: answer(challenge, { password: 'x' }),
        method: 'REGISTER',
        realm,
        lookupHa1,
      });
      expect(bad).toMatchObject({ ok: false, stale: false });
    } finally {
      clock -= 301_000;
    }
  });

  it('nonces from the future are refused', () => {
    const future = new DigestServer({ secret: 'a-very-secret-shared-key', now: () => clock + 60_000 });
    const nonce = parseAuthHeader(future.challenge(realm)[0] as string, 'x').params.nonce as string;
    expect(server.checkNonce(nonce, realm)).toBe('invalid');
    expect(future.checkNonce(nonce, realm)).toBe('valid');
    expect(server.checkNonce('not base64!', realm)).toBe('invalid');
    expect(server.checkNonce('x'.repeat(1000), realm)).toBe('invalid');
  });

  it('nonces issued here are known without their MAC; others sharing the secret are checked by it', () => {
    let now = clock;
    const here = new DigestServer({
      secret: 'a-very-secret-shared-key',
      now: () => now,
      issuedNonceCacheSize: 2,
    });
    const other = new DigestServer({ secret: 'a-very-secret-shared-key', now: () => now });
    const otherSecret = new DigestServer({ secret: 'another-secret-for-this-test', now: () => now });
    const nonceOf = (s: DigestServer, r = realm) =>
      parseAuthHeader(s.challenge(r)[0] as string, 'x').params.nonce as string;
    const first = nonceOf(here);
    expect(here.checkNonce(first, realm)).toBe('valid');
    expect(here.checkNonce(first, 'other.example.com')).toBe('invalid');
    expect(here.checkNonce(nonceOf(other), realm)).toBe('valid');
    expect(here.checkNonce(nonceOf(otherSecret), realm)).toBe('invalid');
    // A remembered nonce with one character changed is not the nonce that was issued.
    const tampered = `${first.slice(0, -1)}${first.endsWith('A') ? 'B' : 'A'}`;
    expect(here.checkNonce(tampered, realm)).toBe('invalid');
    // Pushed out of the bounded memory by newer ones: still valid by its MAC, and stale once too old.
    nonceOf(here);
    nonceOf(here);
    expect(here.checkNonce(first, realm)).toBe('valid');
    const remembered = nonceOf(here);
    now += 301_000;
    expect(here.checkNonce(remembered, realm)).toBe('stale');
    expect(here.checkNonce(first, realm)).toBe('stale');
  });

  it('nonce-count replay protection: nc must increase', async () => {
    const challenge = server.challenge(realm)[0] as string;
    const verify = (nc: number) =>
      server.verify({
        credentials: answer(challenge, { nc, cnonce: `c${nc}` }),
        method: 'REGISTER',
        realm,
        lookupHa1,
      });
    expect(await verify(1)).toMatchObject({ ok: true });
    expect(await verify(1)).toMatchObject({ ok: false, reason: 'replay' });
    expect(await verify(3)).toMatchObject({ ok: true });
    expect(await verify(2)).toMatchObject({ ok: false, reason: 'replay' });
  });

  it('servers sharing the secret refuse each other’s replays only when they share the nonce-counts', async () => {
    // An asynchronous record, as a shared one (Redis) is: the server waits for its answer.
    const memory = new MemoryNonceCounts();
    const shared: NonceCounts = { accept: async (nonce, nc) => memory.accept(nonce, nc) };
    const workerA = new DigestServer({
      secret: 'a-very-secret-shared-key',
      now: () => clock,
      nonceCounts: shared,
    });
    const workerB = new DigestServer({
      secret: 'a-very-secret-shared-key',
      now: () => clock,
      nonceCounts: shared,
    });
    const alone = new DigestServer({ secret: 'a-very-secret-shared-key', now: () => clock });
    const challenge = workerA.challenge(realm)[0] as string;
    const verify = (s: DigestServer, nc: number) =>
      s.verify({
        credentials: answer(challenge, { nc, cnonce: `c${nc}` }),
        method: 'REGISTER',
        realm,
        lookupHa1,
      });
    expect(await verify(workerA, 1)).toMatchObject({ ok: true });
    // The same Authorization sent to the other worker: a replay there too.
    expect(await verify(workerB, 1)).toMatchObject({ ok: false, reason: 'replay' });
    expect(await verify(workerB, 2)).toMatchObject({ ok: true });
    expect(await verify(workerA, 2)).toMatchObject({ ok: false, reason: 'replay' });
    // A server with a record of its own accepts what the others already did.
    expect(await verify(alone, 2)).toMatchObject({ ok: true });
  });

  it('the nonce-count cache is bounded', async () => {
    const small = new DigestServer({
      secret: 'a-very-secret-shared-key',
      nonceCountCacheSize: 2,
      now: () => clock,
    });
    const challenges = [0, 1, 2].map(() => small.challenge(realm)[0] as string);
    for (const c of challenges) {
      expect(
        await small.verify({ credentials: answer(c), method: 'REGISTER', realm, lookupHa1 }),
      ).toMatchObject({ ok: true });
    }
    // the first nonce was evicted, the last two are still protected
    expect(
      await small.verify({
        credentials: answer(challenges[2] as string),
        method: 'REGISTER',
        realm,
        lookupHa1,
      }),
    ).toMatchObject({
      reason: 'replay',
    });
  });

  it('qop=auth-int covers the body', async () => {
    const intServer = new DigestServer({
      secret: 'a-very-secret-shared-key',
      qop: ['auth-int'],
      now: () => clock,
    });
    const challenge = intServer.challenge(realm)[0] as string;
    const body = Buffer.from('v=0\r\n');
    const creds = answer(challenge, { method: 'INVITE', body });
    expect(creds).toContain('qop=auth-int');
    const ok = await intServer.verify({ credentials: creds, method: 'INVITE', realm, body, lookupHa1 });
    expect(ok).toMatchObject({ ok: true, qop: 'auth-int' });
    const tampered = await intServer.verify({
      credentials: creds,
      method: 'INVITE',
      realm,
      body: Buffer.from('v=1\r\n'),
      lookupHa1,
    });
    expect(tampered).toMatchObject({ ok: false, reason: 'bad-response' });
  });

  it('requires a long enough secret', () => {
    expect(() => new DigestServer({ secret: 'short' })).toThrow(RangeError);
  });
});

describe('DigestClient', () => {
  it('counts nonce uses so pre-emptive re-authorisation passes replay protection', async () => {
    const server = new DigestServer({ secret: 'another-secret-key-123' });
    const client = new DigestClient({ username: 'bob', password: 'builder' });
    const lookupHa1 = (u: string, r: string, a: 'MD5' | 'SHA-256' | 'SHA-512-256') =>
      digestHa1(a, u, r, 'builder');
    const challenges = server.challenge('sip.example.com');
    for (let i = 1; i <= 3; i++) {
      const creds = client.authorize(challenges, {
        method: 'REGISTER',
        uri: 'sip:sip.example.com',
      }) as string;
      expect(parseAuthHeader(creds, 'x').params.nc).toBe(i.toString(16).padStart(8, '0'));
      expect(
        await server.verify({ credentials: creds, method: 'REGISTER', realm: 'sip.example.com', lookupHa1 }),
      ).toMatchObject({ ok: true });
    }
    expect(client.authorize(['Basic realm="x"'], { method: 'REGISTER', uri: 'sip:x' })).toBeUndefined();
  });
});
