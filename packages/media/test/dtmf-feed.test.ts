import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type DtmfEvent, DtmfFeed, dtmfFeedPorts, parseDtmfEvent } from '../src/dtmf-feed.ts';

const logger = pino({ level: 'silent' });
/** A datagram as rtpengine 10.5 sends it to `--dtmf-log-dest` (captured from a real call). */
const SAMPLE = {
  callid: 'c1',
  source_tag: 'ta',
  tags: ['tb', 'ta'],
  type: 'DTMF',
  timestamp: 1796460828,
  source_ip: '127.0.0.1',
  event: 1,
  duration: 200,
  volume: 10,
};

describe('parseDtmfEvent', () => {
  it("reads rtpengine's DTMF log datagram", () => {
    expect(parseDtmfEvent(JSON.stringify(SAMPLE))).toEqual({
      callId: 'c1',
      sourceTag: 'ta',
      code: '1',
      durationMs: 200,
    });
    expect(parseDtmfEvent(JSON.stringify({ ...SAMPLE, event: 11 }))?.code).toBe('#');
    expect(parseDtmfEvent(JSON.stringify({ ...SAMPLE, event: 15 }))?.code).toBe('D');
  });

  it('is not a key: another event, a missing call, not JSON', () => {
    expect(parseDtmfEvent(JSON.stringify({ ...SAMPLE, event: 16 }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...SAMPLE, event: 1.5 }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...SAMPLE, callid: undefined }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...SAMPLE, type: 'other' }))).toBeUndefined();
    expect(parseDtmfEvent('not json')).toBeUndefined();
    expect(parseDtmfEvent('[1]')).toBeUndefined();
  });
});

describe('dtmfFeedPorts', () => {
  it('gives worker n port + n - 1; the first relays to the others', () => {
    expect(dtmfFeedPorts(5000, 1, 3)).toEqual({ listen: 5000, relayTo: [5001, 5002] });
    expect(dtmfFeedPorts(5000, 2, 3)).toEqual({ listen: 5001, relayTo: [] });
    expect(dtmfFeedPorts(5000, 1, 1)).toEqual({ listen: 5000, relayTo: [] });
  });
});

describe('DtmfFeed', () => {
  const feeds: DtmfFeed[] = [];
  afterEach(async () => {
    for (const feed of feeds.splice(0)) await feed.close();
  });

  async function send(port: number, payload: object): Promise<void> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) =>
      socket.send(JSON.stringify(payload), port, '127.0.0.1', () => resolve()),
    );
    socket.close();
  }

  function next(feed: DtmfFeed, callId: string): Promise<DtmfEvent> {
    return new Promise((resolve) => {
      const stop = feed.subscribe(callId, (event) => {
        stop();
        resolve(event);
      });
    });
  }

  it("hands a call's key to its subscriber, and an unknown call's to the sibling worker once", async () => {
    const sibling = await DtmfFeed.start({ listen: { host: '127.0.0.1', port: 0 }, logger });
    const first = await DtmfFeed.start({
      listen: { host: '127.0.0.1', port: 0 },
      relayTo: [sibling.port],
      logger,
    });
    feeds.push(first, sibling);
    const own = next(first, 'c1');
    await send(first.port, SAMPLE);
    expect(await own).toMatchObject({ callId: 'c1', code: '1' });

    const elsewhere = next(sibling, 'c2');
    await send(first.port, { ...SAMPLE, callid: 'c2', event: 5 });
    expect(await elsewhere).toMatchObject({ callId: 'c2', code: '5' });
  });
});
