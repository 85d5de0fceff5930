import { parseSipUri } from '@switchboard/sip';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRESENCE } from '../../src/config.ts';
import type { CachedSubscriber } from '../../src/directory/directory.ts';
import { MAX_PUBLICATION_BYTES, publishHandler } from '../../src/handlers/publish.ts';
import { PresenceService } from '../../src/presence/presence-service.ts';
import type { ParsedRequest, RequestLocals } from '../../src/sip/request.ts';
import { FakeRequest, FakeResponse } from '../support/fakes.ts';

/** PUBLISH (RFC 3903) refusals and the entity-tag life of one publication, on fake requests. */

const alice = {
  id: 'alice-id',
  username: 'alice',
  domain: 'example.test',
  customerId: 'c1',
  enabled: true,
} as CachedSubscriber;
const PIDF =
  '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.test"/>';

const service = new PresenceService({
  sources: { bindings: () => [], calls: () => [] },
  config: { ...DEFAULT_PRESENCE },
  log: pino({ level: 'silent' }),
});
const handler = publishHandler({ presence: service, log: pino({ level: 'silent' }) });

afterEach(() => service.store.clear());

async function publish(
  headers: Record<string, string>,
  body = '',
  options: { user?: string; subscriber?: CachedSubscriber | undefined } = {},
) {
  const uri = `sip:${options.user ?? 'alice'}@example.test`;
  const req = new FakeRequest('PUBLISH', uri, { Event: 'presence', ...headers });
  req.locals = {
    source: { address: '192.0.2.10', port: 5060, transport: 'udp', trusted: false },
    parsed: { requestUri: parseSipUri(uri) } as ParsedRequest,
    ...('subscriber' in options ? { subscriber: options.subscriber } : { subscriber: alice }),
  } as RequestLocals;
  (req as { srf?: unknown }).srf = { req: { body }, res: {} };
  const res = new FakeResponse();
  await handler(req, res, () => undefined);
  const [answer] = res.sent;
  if (!answer) throw new Error('no answer');
  return answer;
}

describe('PUBLISH', () => {
  it('initial, refresh, modify and remove, each with a new entity tag; an unknown tag is 412', async () => {
    const first = await publish({ 'Content-Type': 'application/pidf+xml', Expires: '600' }, PIDF);
    expect(first.status).toBe(200);
    const etag = first.headers['SIP-ETag'] ?? '';
    expect(etag).not.toBe('');
    expect(first.headers.Expires).toBe('600');
    expect(service.store.published('alice-id')).toBe(PIDF);

    const refreshed = await publish({ 'SIP-If-Match': etag, Expires: '300' });
    expect(refreshed.status).toBe(200);
    const etag2 = refreshed.headers['SIP-ETag'] ?? '';
    expect(etag2).not.toBe(etag);
    expect(service.store.published('alice-id')).toBe(PIDF);
    expect((await publish({ 'SIP-If-Match': etag, Expires: '300' })).status).toBe(412);

    const modified = PIDF.replace(
      '/>',
      '><tuple id="t"><status><basic>closed</basic></status></tuple></presence>',
    );
    const changed = await publish(
      { 'SIP-If-Match': etag2, 'Content-Type': 'application/pidf+xml' },
      modified,
    );
    expect(changed.status).toBe(200);
    expect(service.store.published('alice-id')).toBe(modified);

    const removed = await publish({ 'SIP-If-Match': changed.headers['SIP-ETag'] ?? '', Expires: '0' });
    expect(removed.status).toBe(200);
    expect(service.store.published('alice-id')).toBeUndefined();
  });

  it('refuses what is not a publication of its own presence', async () => {
    const pidf = { 'Content-Type': 'application/pidf+xml' };
    expect((await publish({ ...pidf, Event: 'dialog' }, PIDF)).status).toBe(489);
    expect((await publish(pidf, PIDF, { user: 'bob' })).status).toBe(403);
    expect((await publish(pidf, PIDF, { subscriber: undefined })).status).toBe(403);
    expect((await publish({ 'Content-Type': 'text/plain' }, 'hello')).status).toBe(415);
    expect((await publish(pidf, `<presence>${'x'.repeat(MAX_PUBLICATION_BYTES)}</presence>`)).status).toBe(
      413,
    );
    expect((await publish(pidf, '<html></html>')).status).toBe(400);
    expect((await publish({})).status).toBe(400);
    const brief = await publish({ ...pidf, Expires: '5' }, PIDF);
    expect(brief).toMatchObject({ status: 423, headers: { 'Min-Expires': '60' } });
    expect((await publish({ ...pidf, Expires: 'later' }, PIDF)).status).toBe(400);
    expect(service.store.published('alice-id')).toBeUndefined();
  });
});
