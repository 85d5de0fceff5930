// Local stand-ins for APNs and FCM, for tests: HTTP/2 over TLS with a throwaway certificate, checking
// what the real services check (JWT signatures with the public halves of test keys, headers, paths,
// bodies) and answering what a test programs.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  createSecureServer,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate, type TestCertificate } from '@switchboard/testkit';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { type ApnsCredentials, apnsCredentials, type FcmCredentials, fcmCredentials } from './credentials.ts';

/** A self-signed certificate for 127.0.0.1, used as its own CA by the clients under test. */
export const makeTestCertificate = selfSignedCertificate;
export type { TestCertificate };

/** A throwaway APNs signing key (what a team's .p8 file holds) and its public half. */
export function makeApnsKey(): { privateKey: string; publicKey: KeyObject } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey,
  };
}

/** A throwaway service-account JSON and the public half of its key. */
export function makeServiceAccount(projectId: string): {
  json: string;
  clientEmail: string;
  publicKey: KeyObject;
} {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `push@${projectId}.iam.gserviceaccount.com`;
  const json = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: 'test-key-1',
    private_key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    token_uri: 'https://oauth2.googleapis.com/token',
  });
  return { json, clientEmail, publicKey: pair.publicKey };
}

/** One request a fake service received, after its checks passed or failed. */
export interface ReceivedPush {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Why the fake refused it (a protocol error of the client), or undefined. */
  problem?: string;
  /** The verified JWT's claims (APNs provider token, FCM assertion). */
  claims?: Record<string, unknown>;
}

export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

abstract class FakeService {
  readonly received: ReceivedPush[] = [];
  /** Connections (HTTP/2 sessions) accepted so far. */
  sessions = 0;
  /** Answers by device token; unlisted tokens are delivered. */
  readonly answers = new Map<string, CannedAnswer>();
  protected readonly server: Http2SecureServer;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  /** The clock JWTs are checked against; tests that move the client's clock move this one too. */
  now: () => number = Date.now;

  constructor(certificate: TestCertificate) {
    this.server = createSecureServer({ cert: certificate.cert, key: certificate.key });
    this.server.on('session', () => {
      this.sessions += 1;
    });
    this.server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.handle(stream, headers, body)
          .catch((error: unknown) => this.answer(stream, 500, { reason: String(error) }))
          .finally(() => this.settle());
      });
    });
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Resolves once `count` requests have been received in total. */
  until(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected abstract handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    body: string,
  ): Promise<void>;

  protected record(push: ReceivedPush): void {
    this.received.push(push);
  }

  protected answer(
    stream: ServerHttp2Stream,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (stream.destroyed) return;
    stream.respond({ ':status': status, 'content-type': 'application/json', ...headers });
    stream.end(body === undefined ? '' : JSON.stringify(body));
  }

  private settle(): void {
    const ready = this.waiters.filter((w) => this.received.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.received.length < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}

/**
 * APNs provider API: `POST /3/device/<token>` with a bearer ES256 provider token (kid = key id,
 * iss = team id, iat within the hour) and the VoIP headers.
 */
export class FakeApns extends FakeService {
  constructor(
    certificate: TestCertificate,
    private readonly key: { publicKey: KeyObject; teamId: string; keyId: string; topic: string },
  ) {
    super(certificate);
  }

  protected async handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    body: string,
  ): Promise<void> {
    const path = String(headers[':path']);
    const push: ReceivedPush = { path, headers, body };
    this.record(push);
    const token = /^\/3\/device\/([0-9a-f]+)$/.exec(path)?.[1];
    const fail = (status: number, reason: string): void => {
      push.problem = reason;
      this.answer(stream, status, { reason });
    };
    if (headers[':method'] !== 'POST' || !token) return fail(405, 'MethodNotAllowed');
    const auth = String(headers.authorization ?? '');
    if (!auth.startsWith('bearer ')) return fail(403, 'MissingProviderToken');
    const jwt = auth.slice('bearer '.length);
    try {
      if (decodeProtectedHeader(jwt).kid !== this.key.keyId) return fail(403, 'InvalidProviderToken');
      const { payload } = await jwtVerify(jwt, this.key.publicKey, {
        algorithms: ['ES256'],
        issuer: this.key.teamId,
        maxTokenAge: '1h',
        currentDate: new Date(this.now()),
      });
      push.claims = payload as Record<string, unknown>;
    } catch {
      return fail(403, 'InvalidProviderToken');
    }
    if (headers['apns-topic'] !== this.key.topic) return fail(400, 'DeviceTokenNotForTopic');
    if (headers['apns-push-type'] !== 'voip') return fail(400, 'InvalidPushType');
    if (headers['apns-priority'] !== '10') return fail(400, 'BadPriority');
    if (headers['apns-expiration'] !== '0') return fail(400, 'BadExpirationDate');
    try {
      JSON.parse(body);
    } catch {
      return fail(400, 'PayloadEmpty');
    }
    const canned = this.answers.get(token);
    if (canned) return this.answer(stream, canned.status, canned.body, canned.headers);
    this.answer(stream, 200, undefined, { 'apns-id': String(headers['apns-id'] ?? '') });
  }
}

/**
 * Google's OAuth 2.0 token endpoint (`POST /token`, JWT bearer grant with an RS256 assertion) and FCM
 * HTTP v1 (`POST /v1/projects/<id>/messages:send` with the access token it issued).
 */
export class FakeFcm extends FakeService {
  readonly tokensIssued: string[] = [];

  constructor(
    certificate: TestCertificate,
    private readonly account: { publicKey: KeyObject; clientEmail: string; projectId: string },
  ) {
    super(certificate);
  }

  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  /** Token-endpoint requests among `received`. */
  get exchanges(): ReceivedPush[] {
    return this.received.filter((r) => r.path === '/token');
  }

  /** Send requests among `received`. */
  get sends(): ReceivedPush[] {
    return this.received.filter((r) => r.path !== '/token');
  }

  protected async handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    body: string,
  ): Promise<void> {
    const path = String(headers[':path']);
    const push: ReceivedPush = { path, headers, body };
    this.record(push);
    const fail = (status: number, problem: string, errorCode?: string): void => {
      push.problem = problem;
      this.answer(stream, status, {
        error: {
          code: status,
          message: problem,
          status: problem,
          details: errorCode
            ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]
            : [],
        },
      });
    };
    if (headers[':method'] !== 'POST') return fail(405, 'METHOD_NOT_ALLOWED');
    if (path === '/token') {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        push.problem = 'unsupported_grant_type';
        return this.answer(stream, 400, { error: 'unsupported_grant_type' });
      }
      try {
        const { payload } = await jwtVerify(form.get('assertion') ?? '', this.account.publicKey, {
          algorithms: ['RS256'],
          issuer: this.account.clientEmail,
          audience: this.tokenUrl,
          maxTokenAge: '1h',
          currentDate: new Date(this.now()),
        });
        if (payload.scope !== 'https://www.googleapis.com/auth/firebase.messaging') throw new Error('scope');
        push.claims = payload as Record<string, unknown>;
      } catch {
        push.problem = 'invalid_grant';
        return this.answer(stream, 400, { error: 'invalid_grant' });
      }
      const token = `ya29.test-${this.tokensIssued.length + 1}`;
      this.tokensIssued.push(token);
      return this.answer(stream, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    if (path !== `/v1/projects/${this.account.projectId}/messages:send`) return fail(404, 'NOT_FOUND');
    const auth = String(headers.authorization ?? '');
    if (!this.tokensIssued.some((t) => auth === `Bearer ${t}`)) return fail(401, 'UNAUTHENTICATED');
    let message: {
      token?: unknown;
      data?: unknown;
      notification?: unknown;
      android?: { priority?: unknown };
    };
    try {
      message = (JSON.parse(body) as { message: typeof message }).message;
    } catch {
      return fail(400, 'INVALID_ARGUMENT');
    }
    if (typeof message?.token !== 'string') return fail(400, 'INVALID_ARGUMENT');
    // Data-only: a notification block would be shown by the system instead of waking the app.
    if (message.notification !== undefined) return fail(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    if (message.android?.priority !== 'HIGH') return fail(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    const data = message.data as Record<string, unknown> | undefined;
    if (!data || Object.values(data).some((v) => typeof v !== 'string'))
      return fail(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    const canned = this.answers.get(message.token);
    if (canned) return this.answer(stream, canned.status, canned.body, canned.headers);
    this.answer(stream, 200, { name: `projects/${this.account.projectId}/messages/${this.received.length}` });
  }
}

/** The error body FCM sends for a dead registration token. */
export const FCM_UNREGISTERED = {
  status: 404,
  body: {
    error: {
      code: 404,
      message: 'Requested entity was not found.',
      status: 'NOT_FOUND',
      details: [
        { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' },
      ],
    },
  },
} satisfies CannedAnswer;

/** Fake APNs and FCM listening with throwaway keys, and the credentials that work with them. */
export interface FakePushServices {
  certificate: TestCertificate;
  apns: FakeApns;
  fcm: FakeFcm;
  apnsCredentials: ApnsCredentials;
  fcmCredentials: FcmCredentials;
  close(): Promise<void>;
}

/**
 * Starts both stand-ins for one app (APNs team, key and bundle; FCM project), so every suite that pushes
 * builds them, and the matching credentials, the same way.
 */
export async function startFakePushServices(app: {
  teamId: string;
  keyId: string;
  bundleId: string;
  projectId: string;
}): Promise<FakePushServices> {
  const certificate = makeTestCertificate();
  const apnsKey = makeApnsKey();
  const account = makeServiceAccount(app.projectId);
  const apns = await new FakeApns(certificate, {
    publicKey: apnsKey.publicKey,
    teamId: app.teamId,
    keyId: app.keyId,
    topic: `${app.bundleId}.voip`,
  }).listen();
  const fcm = await new FakeFcm(certificate, {
    publicKey: account.publicKey,
    clientEmail: account.clientEmail,
    projectId: app.projectId,
  }).listen();
  return {
    certificate,
    apns,
    fcm,
    apnsCredentials: apnsCredentials({
      teamId: app.teamId,
      keyId: app.keyId,
      bundleId: app.bundleId,
      privateKey: apnsKey.privateKey,
    }),
    fcmCredentials: fcmCredentials(account.json),
    close: async () => {
      await Promise.all([apns.close(), fcm.close()]);
    },
  };
}
