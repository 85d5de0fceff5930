// Offer/answer/delete latency through a local rtpengine, as sip-core drives it for every call.
// Bounded: a fixed number of calls per phase and a wall-clock cap. Loopback only.
// Usage: offer-answer.ts [calls per phase, default 1000] [concurrency, default 10]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { profiles, RtpengineMedia, startLocalRtpengine } from '../../packages/media/src/index.ts';

const CALLS = Math.min(Number(process.argv[2] ?? 1000), 100_000);
const CONCURRENCY = Math.min(Number(process.argv[3] ?? 10), 200);
const MAX_SECONDS = 120;

// pino is a dependency of the media package, not of this folder: resolve it from there.
const pino = createRequire(new URL('../../packages/media/package.json', import.meta.url))(
  'pino',
) as (options: { level: string }) => Logger;
const logger = pino({ level: 'silent' });

function sdp(port: number): string {
  return `${[
    'v=0',
    'o=bench 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
  ].join('\r\n')}\r\n`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (n: number): string => n.toFixed(2);
  return `${name.padEnd(22)} n=${sorted.length} p50=${f(percentile(sorted, 50))} ms p95=${f(percentile(sorted, 95))} ms p99=${f(percentile(sorted, 99))} ms max=${f(sorted[sorted.length - 1] ?? Number.NaN)} ms`;
}

async function main(): Promise<void> {
  const rtpengine = await startLocalRtpengine({
    ngPort: 22350,
    portMin: 33000,
    portMax: 33999,
    interface: '127.0.0.1',
    logger,
  });
  const media = new RtpengineMedia({
    instances: [{ host: rtpengine.host, port: rtpengine.port, weight: 1 }],
    logger,
    healthIntervalMs: 0,
  });
  const stopAt = Date.now() + MAX_SECONDS * 1000;
  try {
    for (const [label, source, destination] of [
      ['NAT phone -> peer', profiles.natSubscriber, profiles.publicPeer],
      ['RTP -> WebRTC', profiles.publicPeer, profiles.webrtc],
    ] as const) {
      const offers: number[] = [];
      const answers: number[] = [];
      const deletes: number[] = [];
      let next = 0;
      const started = performance.now();
      const worker = async (): Promise<void> => {
        while (next < CALLS && Date.now() < stopAt) {
          const n = next++;
          const callId = `bench-${label}-${n}`;
          let t = performance.now();
          const { session } = await media.offer({
            callId,
            fromTag: 'a',
            sdp: sdp(20000 + (n % 1000) * 2),
            legProfile: source,
            otherLegProfile: destination,
            sourceAddress: '127.0.0.1',
          });
          offers.push(performance.now() - t);
          t = performance.now();
          await session.answer({ toTag: 'b', sdp: sdp(40000 + (n % 1000) * 2) });
          answers.push(performance.now() - t);
          t = performance.now();
          await session.end();
          deletes.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `\n${label}: ${offers.length} calls, concurrency ${CONCURRENCY}, ${(offers.length / seconds).toFixed(0)} calls/s`,
      );
      console.log(summary('offer', offers));
      console.log(summary('answer', answers));
      console.log(summary('end (query+delete)', deletes));
    }
  } finally {
    await media.close();
    await rtpengine.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
