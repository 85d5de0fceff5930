import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { ngMessageCodec } from '../src/ng-client.ts';

/**
 * One NG round trip's encoding work, two ways: the bencode package rtpengine-client bundles (its own
 * framing, `BaseClient.encodeMessage`/`decodeMessage`, rebuilt here from the same calls) and our
 * codec. The command is an `offer` as sip-core sends it for a call, the replies the one rtpengine gives
 * for it (SDP rewritten, a few statistics) and rtpengine's answer to the `query` sent at the end of a
 * call (`query-reply.ng`, captured from rtpengine 10.5: every stream's endpoints, flags and counters).
 * Reported in CPU nanoseconds per message, median of the samples.
 */
const MESSAGES = 100_000;
const SAMPLES = 7;

const bencode = createRequire(import.meta.url)('bencode') as {
  encode(value: unknown): Buffer;
  decode(bytes: Buffer, encoding: 'utf8'): unknown;
};

const COOKIE = '8d6e4c1a-3b7f-4f25-9a51-6c0e2f9d7b13';
const offerSdp = `${[
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8 9 18 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
].join('\r\n')}\r\n`;

const command = {
  command: 'offer',
  'call-id': 'a84b4c76e66710@127.0.0.1',
  'from-tag': '1928301774',
  sdp: offerSdp,
  flags: ['trust-address', 'port-latching'],
  replace: ['origin', 'session-connection'],
  ICE: 'remove',
  'rtcp-mux': ['demux'],
  'transport-protocol': 'RTP/AVP',
  'record call': 'no',
};

const reply = Buffer.from(
  `${COOKIE} ${bencode
    .encode({
      result: 'ok',
      sdp: offerSdp.replace('40000', '30000').replace(/a=fmtp:18.*\r\n/, ''),
      'sdes-tag': '',
      totals: { RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } },
    })
    .toString()}`,
);

const queryReply = readFileSync(new URL('./query-reply.ng', import.meta.url));

const packageCodec = {
  encodeMessage: (cookie: string, data: unknown): Buffer =>
    Buffer.from([cookie, bencode.encode(data)].join(' ')),
  decodeMessage: (message: Buffer): unknown => {
    const space = message.indexOf(' ');
    return {
      id: message.subarray(0, space).toString(),
      data: bencode.decode(message.subarray(space + 1), 'utf8'),
    };
  },
};

/**
 * The query reply with the tags of a thousand different calls: a real process decodes each call's
 * own tags as dictionary keys, which a single repeated reply would hide.
 */
const queryReplies = Array.from({ length: 1000 }, (_, call) => {
  const json = JSON.stringify(packageCodec.decodeMessage(queryReply).data)
    .replaceAll('"a":{', `"from-${call}":{`)
    .replaceAll('"b":{', `"to-${call}":{`)
    .replaceAll('"tag":"a"', `"tag":"from-${call}"`)
    .replaceAll('"tag":"b"', `"tag":"to-${call}"`);
  return packageCodec.encodeMessage(COOKIE, JSON.parse(json));
});
let nextReply = 0;
const anotherQueryReply = (): Buffer => queryReplies[nextReply++ % queryReplies.length] as Buffer;

function nsPerMessage(work: () => unknown): number {
  const runs: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const before = process.cpuUsage();
    for (let i = 0; i < MESSAGES; i++) work();
    const used = process.cpuUsage(before);
    runs.push(((used.user + used.system) * 1000) / MESSAGES);
  }
  return runs.sort((a, b) => a - b)[Math.floor(SAMPLES / 2)] as number;
}

console.log(
  `NG codec, ${MESSAGES} messages per sample, median of ${SAMPLES}; load ${loadavg()[0]?.toFixed(2)}`,
);
console.log('message                           bencode package   ours');
for (const [label, withPackage, withOurs] of [
  [
    'encode offer command',
    () => packageCodec.encodeMessage(COOKIE, command),
    () => ngMessageCodec.encodeMessage(COOKIE, command),
  ],
  ['decode offer reply', () => packageCodec.decodeMessage(reply), () => ngMessageCodec.decodeMessage(reply)],
  [
    'decode query reply',
    () => packageCodec.decodeMessage(queryReply),
    () => ngMessageCodec.decodeMessage(queryReply),
  ],
  [
    'decode query replies, 1000 calls',
    () => packageCodec.decodeMessage(anotherQueryReply()),
    () => ngMessageCodec.decodeMessage(anotherQueryReply()),
  ],
] as const) {
  const theirs = nsPerMessage(withPackage);
  const ours = nsPerMessage(withOurs);
  console.log(
    `${label.padEnd(34)}${`${theirs.toFixed(0)} ns`.padStart(15)}${`${ours.toFixed(0)} ns`.padStart(9)}`,
  );
}
