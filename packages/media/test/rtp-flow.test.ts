import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRtpengine } from '../src/launcher.ts';
import { profiles } from '../src/profiles.ts';
import { RtpengineMedia } from '../src/rtpengine-media.ts';
import { protect, srtpFromInline, unprotect } from './srtp.ts';
import {
  closeSocket,
  mLines,
  rtpPacket,
  sdp,
  sendUntilReceived,
  silentLogger,
  startTestRtpengine,
  udpSocket,
} from './support.ts';

// Real RTP through the relay: dgram sockets play caller and callee on loopback.
let rtpengine: LocalRtpengine;
let media: RtpengineMedia;
const sockets: Socket[] = [];

beforeAll(async () => {
  rtpengine = await startTestRtpengine({
    ngPort: 22302,
    portMin: 31600,
    portMax: 31799,
    interfaces: ['pub/127.0.0.1', 'pub/::1'],
  });
  media = new RtpengineMedia({
    instances: [{ host: rtpengine.host, port: rtpengine.port, weight: 1 }],
    logger: silentLogger,
    healthIntervalMs: 0,
  });
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map(closeSocket));
});

afterAll(async () => {
  await media?.close();
  await rtpengine?.stop();
});

async function socket(address = '127.0.0.1'): Promise<Socket> {
  const s = await udpSocket(address);
  sockets.push(s);
  return s;
}

describe('RTP through the relay', () => {
  it('relays audio and video both ways and reports the packets in the call statistics', async () => {
    const [callerAudio, callerVideo, calleeAudio, calleeVideo] = await Promise.all([
      socket(),
      socket(),
      socket(),
      socket(),
    ]);
    const { sdp: offer, session } = await media.offer({
      callId: 'flow-av@test',
      fromTag: 'caller',
      sdp: sdp({
        address: '127.0.0.1',
        audioPort: callerAudio.address().port,
        videoPort: callerVideo.address().port,
      }),
      legProfile: profiles.publicPeer,
      otherLegProfile: profiles.publicPeer,
    });
    const { sdp: answer } = await session.answer({
      toTag: 'callee',
      sdp: sdp({
        address: '127.0.0.1',
        audioPort: calleeAudio.address().port,
        videoPort: calleeVideo.address().port,
      }),
    });
    // The callee sends to the ports in the offer; the caller to those in the answer.
    const [calleeSideAudio, calleeSideVideo] = mLines(offer);
    const [callerSideAudio, callerSideVideo] = mLines(answer);

    const a2b = await sendUntilReceived(
      callerAudio,
      { address: '127.0.0.1', port: callerSideAudio!.port },
      calleeAudio,
      0,
      0x1111,
    );
    expect(a2b.packet[1]! & 0x7f).toBe(0);
    expect(a2b.packet.readUInt32BE(8)).toBe(0x1111);
    expect(a2b.source.port).toBe(calleeSideAudio!.port);

    const b2a = await sendUntilReceived(
      calleeAudio,
      { address: '127.0.0.1', port: calleeSideAudio!.port },
      callerAudio,
      0,
      0x2222,
    );
    expect(b2a.packet.readUInt32BE(8)).toBe(0x2222);
    expect(b2a.source.port).toBe(callerSideAudio!.port);

    const v2b = await sendUntilReceived(
      callerVideo,
      { address: '127.0.0.1', port: callerSideVideo!.port },
      calleeVideo,
      96,
      0x3333,
    );
    expect(v2b.packet[1]! & 0x7f).toBe(96);
    expect(v2b.source.port).toBe(calleeSideVideo!.port);

    const v2a = await sendUntilReceived(
      calleeVideo,
      { address: '127.0.0.1', port: calleeSideVideo!.port },
      callerVideo,
      96,
      0x4444,
    );
    expect(v2a.packet.readUInt32BE(8)).toBe(0x4444);

    const stats = await session.end();
    expect(stats).not.toBeNull();
    expect(stats!.callId).toBe('flow-av@test');
    expect(stats!.instance).toBe(rtpengine.ngAddress);
    expect(stats!.totals.rtp.packets).toBeGreaterThanOrEqual(4);
    expect(stats!.totals.rtp.bytes).toBeGreaterThanOrEqual(4 * 172);
    // The caller's leg received the caller's audio stream: its SSRC and codec are reported.
    const callerAudioStream = stats!.legs
      .find((l) => l.tag === 'caller')
      ?.streams.find((s) => s.mediaType === 'audio' && s.component === 'rtp');
    expect(callerAudioStream).toMatchObject({ ssrc: 0x1111, codec: 'PCMU/8000' });
    expect(callerAudioStream!.received.packets).toBeGreaterThan(0);
    const video = stats!.legs
      .flatMap((l) => l.streams)
      .filter((s) => s.mediaType === 'video' && s.component === 'rtp');
    expect(video.some((s) => s.received.packets > 0)).toBe(true);
  });

  it('latches to the real source of a NAT subscriber whose SDP names a private address', async () => {
    const [phone, peer] = await Promise.all([socket(), socket()]);
    // The phone's SDP names an address nobody can reach; only its packets show where it really is.
    const { sdp: offer, session } = await media.offer({
      callId: 'flow-nat@test',
      fromTag: 'phone',
      sdp: sdp({ address: '192.168.77.7', audioPort: 40000 }),
      legProfile: profiles.natSubscriber,
      otherLegProfile: profiles.publicPeer,
      sourceAddress: '127.0.0.1',
    });
    const { sdp: answer } = await session.answer({
      toTag: 'peer',
      sdp: sdp({ address: '127.0.0.1', audioPort: peer.address().port }),
    });
    const peerSidePort = mLines(offer)[0]!.port;
    const phoneSidePort = mLines(answer)[0]!.port;

    await sendUntilReceived(phone, { address: '127.0.0.1', port: phoneSidePort }, peer, 8, 0x5555);
    const back = await sendUntilReceived(
      peer,
      { address: '127.0.0.1', port: peerSidePort },
      phone,
      8,
      0x6666,
    );
    expect(back.packet.readUInt32BE(8)).toBe(0x6666);
    await session.end();
  });

  it('bridges an IPv4 caller and an IPv6 callee', async () => {
    const [caller, callee] = await Promise.all([socket('127.0.0.1'), socket('::1')]);
    const { sdp: offer, session } = await media.offer({
      callId: 'flow-v4v6@test',
      fromTag: 'v4',
      sdp: sdp({ address: '127.0.0.1', audioPort: caller.address().port }),
      legProfile: profiles.publicPeer,
      otherLegProfile: { transport: 'rtp', addressFamily: 'IP6' },
    });
    expect(offer).toContain('c=IN IP6 ::1');
    const { sdp: answer } = await session.answer({
      toTag: 'v6',
      sdp: sdp({ address: '::1', audioPort: callee.address().port, family: 'IP6' }),
    });
    expect(answer).toContain('c=IN IP4 127.0.0.1');
    const toV6 = await sendUntilReceived(
      caller,
      { address: '127.0.0.1', port: mLines(answer)[0]!.port },
      callee,
      0,
      0xabcd,
    );
    expect(toV6.source.address).toBe('::1');
    const toV4 = await sendUntilReceived(
      callee,
      { address: '::1', port: mLines(offer)[0]!.port },
      caller,
      0,
      0xdcba,
    );
    expect(toV4.source.address).toBe('127.0.0.1');
    await session.end();
  });

  it('encrypts towards an SDES-SRTP leg and decrypts what it sends (AES_CM_128_HMAC_SHA1_80)', async () => {
    const [plain, secure] = await Promise.all([socket(), socket()]);
    const { sdp: offer, session } = await media.offer({
      callId: 'flow-srtp@test',
      fromTag: 'plain',
      sdp: sdp({ address: '127.0.0.1', audioPort: plain.address().port }),
      legProfile: profiles.publicPeer,
      otherLegProfile: { transport: 'srtp-sdes', srtpSuites: ['AES_CM_128_HMAC_SHA1_80'] },
    });
    const relayKey = /a=crypto:(\d+) AES_CM_128_HMAC_SHA1_80 inline:(\S+)/.exec(offer);
    expect(relayKey).not.toBeNull();
    const phoneKey = randomBytes(30).toString('base64');
    const { sdp: answer } = await session.answer({
      toTag: 'secure',
      sdp: sdp({
        address: '127.0.0.1',
        audioPort: secure.address().port,
        proto: 'RTP/SAVP',
        extra: [`a=crypto:${relayKey![1]} AES_CM_128_HMAC_SHA1_80 inline:${phoneKey}`],
      }),
    });
    expect(mLines(answer)[0]?.proto).toBe('RTP/AVP');

    // Plain RTP in, SRTP out: it decrypts with the key the relay offered, and the payload is intact.
    const toSecure = await sendUntilReceived(
      plain,
      { address: '127.0.0.1', port: mLines(answer)[0]!.port },
      secure,
      0,
      0x51,
    );
    expect(toSecure.packet.length).toBe(12 + 160 + 10);
    const decrypted = unprotect(srtpFromInline(relayKey![2]!), toSecure.packet);
    expect(decrypted.subarray(12).equals(Buffer.alloc(160, 0xd5))).toBe(true);

    // SRTP in (with the phone's own key), plain RTP out.
    const phoneContext = srtpFromInline(phoneKey);
    const toPlain = await new Promise<Buffer>((resolve, reject) => {
      let seq = 1;
      const onMessage = (packet: Buffer): void => {
        clearInterval(timer);
        resolve(packet);
      };
      plain.once('message', onMessage);
      const timer = setInterval(() => {
        if (seq > 40) {
          clearInterval(timer);
          plain.off('message', onMessage);
          reject(new Error('no decrypted RTP arrived'));
          return;
        }
        secure.send(protect(phoneContext, rtpPacket(0, seq++, 0x52)), mLines(offer)[0]!.port, '127.0.0.1');
      }, 20);
    });
    expect(toPlain.length).toBe(12 + 160);
    expect(toPlain.readUInt32BE(8)).toBe(0x52);
    expect(toPlain.subarray(12).equals(Buffer.alloc(160, 0xd5))).toBe(true);
    await session.end();
  });
});
