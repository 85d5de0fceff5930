import { type LocalRtpengine, profiles, RtpengineMedia, startLocalRtpengine } from '@switchboard/media';
import { allocatePort } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerLegProfile, deviceLegProfile } from '../../src/calls/leg-profile.ts';
import { Directory } from '../../src/directory/directory.ts';
import { createTenant, createTestDatabase, type TestDatabase, type TestTenant } from '../support/database.ts';

/**
 * The domain's `transcodeCodecs` decides what a browser's offer towards a SIP phone gets added by the
 * relay: read from the in-memory directory (following the change feed), applied by a real rtpengine.
 */
const log = pino({ level: 'silent' });
const RTP = { min: 47700, max: 47729 };

/** A browser offering Opus only (and RFC 4733 events): DTLS-SRTP, ICE, rtcp-mux. */
function opusOnlyBrowser(port: number): string {
  return `${[
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 111 101`,
    'c=IN IP4 127.0.0.1',
    `a=candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0`,
    'a=ice-ufrag:Wq7c',
    'a=ice-pwd:8mLqoEVqM1nvhDwnkjM9Yzq7',
    'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:101 telephone-event/8000',
  ].join('\r\n')}\r\n`;
}

const codecs = (sdp: string) =>
  sdp
    .split(/\r?\n/)
    .filter((l) => l.startsWith('a=rtpmap:'))
    .map((l) => l.split(' ')[1]?.split('/')[0]);

let testDb: TestDatabase;
let directory: Directory;
let rtpengine: LocalRtpengine;
let media: RtpengineMedia;
let g711: TestTenant;
let off: TestTenant;
let n = 0;

beforeAll(async () => {
  testDb = await createTestDatabase();
  g711 = await createTenant(testDb.db, 'g711.example.test');
  off = await createTenant(testDb.db, 'opus.example.test');
  await testDb.db.prisma.domain.update({ where: { id: off.domainId }, data: { transcodeCodecs: [] } });
  directory = new Directory(testDb.db.prisma, log);
  await directory.load();
  const ngPort = await allocatePort({ min: 47730, max: 47739 });
  rtpengine = await startLocalRtpengine({
    ngPort,
    portMin: RTP.min,
    portMax: RTP.max,
    interface: ['127.0.0.1'],
    logger: log,
    stopTimeoutMs: 3000,
  });
  media = new RtpengineMedia({
    instances: [{ host: rtpengine.host, port: rtpengine.port, weight: 1 }],
    logger: log,
    healthIntervalMs: 0,
  });
}, 60_000);

afterAll(async () => {
  await media?.close();
  await rtpengine?.stop();
  await testDb?.drop();
});

/** The offer a desk phone gets when a browser of `domainId` offering only Opus calls it. */
async function offerToPhone(domainId: string): Promise<string> {
  n += 1;
  const sdp = opusOnlyBrowser(50200 + n);
  const relayed = await media.offer({
    callId: `transcode-setting-${n}@test`,
    fromTag: 'a',
    sdp,
    legProfile: callerLegProfile(
      sdp,
      profiles.natSubscriber,
      'optional',
      directory.transcodeCodecs(domainId),
    ),
    otherLegProfile: deviceLegProfile('udp'),
    sourceAddress: '127.0.0.1',
  });
  await relayed.session.end();
  return relayed.sdp;
}

describe("a domain's transcoding setting", () => {
  it('a new domain adds G.711 to an Opus-only browser offer towards a phone (the relay transcodes)', async () => {
    expect(directory.transcodeCodecs(g711.domainId)).toEqual(['PCMU', 'PCMA']);
    const offer = await offerToPhone(g711.domainId);
    expect(codecs(offer)).toEqual(expect.arrayContaining(['opus', 'PCMU', 'PCMA']));
  });

  it('empty: the browser offer reaches the phone with its own codecs only', async () => {
    expect(directory.transcodeCodecs(off.domainId)).toEqual([]);
    const offer = await offerToPhone(off.domainId);
    expect(codecs(offer)).toContain('opus');
    expect(codecs(offer)).not.toContain('PCMU');
    expect(codecs(offer)).not.toContain('PCMA');
  });

  it('is read from memory and follows a change once the change feed reports it', async () => {
    await testDb.db.prisma.domain.update({
      where: { id: off.domainId },
      data: { transcodeCodecs: ['PCMA'] },
    });
    // No database read per call: until the change is announced, calls see what was loaded.
    expect(directory.transcodeCodecs(off.domainId)).toEqual([]);
    await directory.onDomainChanged(off.domainId);
    expect(directory.transcodeCodecs(off.domainId)).toEqual(['PCMA']);
    const offer = await offerToPhone(off.domainId);
    expect(codecs(offer)).toContain('PCMA');
    expect(codecs(offer)).not.toContain('PCMU');
  });
});
