import { createSocket } from 'node:dgram';
import { createMetricsRegistry } from '@switchboard/metrics';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeHep3, HEP_CHUNK } from '../src/capture/hep.ts';
import { startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, waitFor } from './helpers.ts';
import { allocatePort, runSipp, stopAllSipp } from './sipp.ts';
import { Srf } from './srf.ts';

/**
 * What the engine tells about the SIP it carries: HEP v3 copies to a collector, Prometheus counters, and its
 * own per-call capture for ladders. A sipp UAC calls a drachtio-srf UAS through the engine over UDP.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => stopAllSipp());

const SDP =
  'v=0\r\no=app 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';

interface Collected {
  chunks: Map<number, Buffer>;
  sip: string;
}

describe('SIP capture of a call', () => {
  it('exports every message as HEP v3, counts it, and keeps the call ladder', async () => {
    const collector = createSocket('udp4');
    await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => collector.close(() => resolve())));
    const packets: Collected[] = [];
    collector.on('message', (data) => {
      const { chunks } = decodeHep3(data);
      packets.push({ chunks, sip: chunks.get(HEP_CHUNK.payload)!.toString('utf8') });
    });

    const metrics = createMetricsRegistry();
    const engine = await startEngine(
      {
        sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
        engineAdmin: { host: '127.0.0.1', port: 0 },
        engineSecret: SECRET,
        hep: {
          destination: { host: '127.0.0.1', port: collector.address().port },
          captureId: 4242,
          authKey: 'homer-key',
        },
      },
      { logger: silentLogger, metrics },
    );
    cleanups.push(() => engine.close());
    const srf = new Srf();
    srf.on('error', () => {});
    let ended = false;
    srf.invite(async (req, res) => {
      const dialog = await srf.createUAS(req, res, { localSdp: SDP });
      dialog.on('destroy', () => {
        ended = true;
      });
    });
    const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
    await connected;
    cleanups.push(() => srf.disconnect());

    const enginePort = engine.listeners[0]!.port;
    const sippPort = await allocatePort();
    const uac = runSipp({ scenario: 'uac-invite.xml', port: sippPort, remote: `127.0.0.1:${enginePort}` });
    const result = await uac.done;
    expect(result.code, result.stderr).toBe(0);
    await waitFor(() => ended, 'the dialog to end in the app');
    const startLine = (sip: string) => sip.slice(0, sip.indexOf('\r\n'));
    await waitFor(
      () => packets.some((p) => p.sip.startsWith('SIP/2.0 200') && p.sip.includes('CSeq: 2 BYE')),
      'the HEP copy of the 200 to the BYE',
    );

    // The call as the collector sees it: the packets that carry the caller's Call-ID, in order.
    const invite = packets.find((p) => p.sip.startsWith('INVITE '))!;
    const callId = /Call-ID: (.+)\r\n/i.exec(invite.sip)![1]!;
    const call = packets.filter((p) => p.chunks.get(HEP_CHUNK.correlationId)?.toString() === callId);
    expect(call.map((p) => startLine(p.sip))).toEqual([
      expect.stringMatching(/^INVITE sip:service@127\.0\.0\.1/),
      'SIP/2.0 100 Trying',
      'SIP/2.0 200 OK',
      expect.stringMatching(/^ACK /),
      expect.stringMatching(/^BYE /),
      'SIP/2.0 200 OK',
    ]);
    const port = (p: Collected, type: number) => p.chunks.get(type)!.readUInt16BE(0);
    // Received INVITE: from sipp to the engine; the 100 back: from the engine to sipp.
    expect([port(call[0]!, HEP_CHUNK.sourcePort), port(call[0]!, HEP_CHUNK.destinationPort)]).toEqual([
      sippPort,
      enginePort,
    ]);
    expect([port(call[1]!, HEP_CHUNK.sourcePort), port(call[1]!, HEP_CHUNK.destinationPort)]).toEqual([
      enginePort,
      sippPort,
    ]);
    const first = call[0]!.chunks;
    expect(first.get(HEP_CHUNK.ipFamily)![0]).toBe(2);
    expect(first.get(HEP_CHUNK.ipProtocol)![0]).toBe(17);
    expect([...first.get(HEP_CHUNK.ipv4Source)!]).toEqual([127, 0, 0, 1]);
    expect([...first.get(HEP_CHUNK.ipv4Destination)!]).toEqual([127, 0, 0, 1]);
    expect(first.get(HEP_CHUNK.protocolType)![0]).toBe(1);
    expect(first.get(HEP_CHUNK.captureId)!.readUInt32BE(0)).toBe(4242);
    expect(first.get(HEP_CHUNK.authKey)!.toString()).toBe('homer-key');
    const seconds = first.get(HEP_CHUNK.timestampSeconds)!.readUInt32BE(0);
    expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(600);
    expect(first.get(HEP_CHUNK.timestampMicroseconds)!.readUInt32BE(0)).toBeLessThan(1_000_000);

    // The engine's own capture holds the same sequence for the ladder view.
    const ladder = engine.capture.ladder([callId]);
    expect(ladder.map((m) => `${m.direction} ${m.startLine}`)).toEqual(
      call.map((p, i) => `${i === 0 || i === 3 || i === 4 ? 'in' : 'out'} ${startLine(p.sip)}`),
    );
    expect(ladder[0]).toMatchObject({
      source: `127.0.0.1:${sippPort}`,
      destination: `127.0.0.1:${enginePort}`,
      transport: 'udp',
    });

    const text = await metrics.metrics();
    expect(text).toContain('switchboard_sip_requests_total{direction="in",method="INVITE"} 1');
    expect(text).toContain('switchboard_sip_requests_total{direction="in",method="BYE"} 1');
    expect(text).toContain('switchboard_sip_responses_total{direction="out",method="INVITE",code="200"} 1');
    expect(text).toContain('switchboard_sip_responses_total{direction="out",method="BYE",code="200"} 1');
    expect(text).toMatch(/switchboard_hep_packets_total\{result="sent"\} \d+/);
    expect(text).toContain('switchboard_engine_apps 1');
    expect(text).toMatch(/switchboard_sip_transactions\{kind="server"\} \d+/);
  });
});
