import { createSocket } from 'node:dgram';
import { cpus, loadavg } from 'node:os';
import { encodeG711 } from '../src/g711.ts';
import { buildRtp } from '../src/rtp.ts';
import { MediaSession } from '../src/session.ts';

/**
 * CPU cost of the media endpoint per concurrent session: SESSIONS sessions each play a tone and
 * record what a peer sends them (20 ms G.711 packets both ways, as in a voicemail deposit) for
 * SECONDS; the process's CPU time over the wall time gives the share of one core per session.
 * Usage: pnpm --filter @switchboard/media-endpoint bench [sessions] [seconds]
 */

const SESSIONS = Number(process.argv[2] ?? 50);
const SECONDS = Number(process.argv[3] ?? 10);

const sink = createSocket('udp4');
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
let received = 0;
sink.on('message', () => received++);
const offer = (port: number) =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n`;
const sessions = await Promise.all(
  Array.from({ length: SESSIONS }, () =>
    MediaSession.open(offer(sink.address().port), { address: '127.0.0.1' }),
  ),
);
const tone = Int16Array.from({ length: 8000 * (SECONDS + 2) }, (_, i) =>
  Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
);
const payload = encodeG711('PCMU', tone.subarray(0, 160));
const ports = sessions.map((s) => Number(/m=audio (\d+)/.exec(s.answer)?.[1]));

const start = process.cpuUsage();
const wallStart = performance.now();
for (const session of sessions) void session.play(tone);
const recordings = sessions.map((s, i) => s.record(`/dev/null`, { maxSeconds: SECONDS + 5 }).then(() => i));
// The peers' side: one packet per session every 20 ms.
let sequence = 0;
const sender = setInterval(() => {
  sequence++;
  for (const port of ports)
    sink.send(
      buildRtp({ payloadType: 0, marker: false, sequence, timestamp: sequence * 160, ssrc: 1, payload }),
      port,
      '127.0.0.1',
    );
}, 20);
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
clearInterval(sender);
const used = process.cpuUsage(start);
const wallMs = performance.now() - wallStart;
for (const session of sessions) session.close();
await Promise.allSettled(recordings);
sink.close();
const cpuMs = (used.user + used.system) / 1000;
console.log(
  JSON.stringify({
    sessions: SESSIONS,
    seconds: SECONDS,
    packetsSentBySessions: received,
    expectedPackets: SESSIONS * SECONDS * 50,
    cpuPercentOfOneCore: Number(((cpuMs / wallMs) * 100).toFixed(1)),
    cpuPercentPerSession: Number(((cpuMs / wallMs / SESSIONS) * 100).toFixed(3)),
    note: 'includes the bench peer sending the packets the sessions record',
    loadavg: loadavg().map((l) => Number(l.toFixed(2))),
    cores: cpus().length,
  }),
);
