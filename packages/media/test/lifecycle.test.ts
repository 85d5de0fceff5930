import type { Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { udpFree } from '@switchboard/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../src/errors.ts';
import { type LocalRtpengine, startLocalRtpengine } from '../src/launcher.ts';
import { NgClient } from '../src/ng-client.ts';
import { profiles } from '../src/profiles.ts';
import { RtpengineMedia } from '../src/rtpengine-media.ts';
import {
  closeSocket,
  mLines,
  rtpPacket,
  sdp,
  sendUntilReceived,
  silentLogger,
  udpSocket,
} from './support.ts';

// Session lifecycle against a real rtpengine: delete frees the ports, the sweep finds orphans, errors are
// clear, in-call commands (DTMF, media blocking, recording) reach rtpengine.
const dataDir = mkdtempSync(join(tmpdir(), 'media-lifecycle-'));
let rtpengine: LocalRtpengine;
let media: RtpengineMedia;
let ng: NgClient;
const sockets: Socket[] = [];

beforeAll(async () => {
  rtpengine = await startLocalRtpengine({
    ngPort: 22305,
    portMin: 32200,
    portMax: 32299,
    interface: '127.0.0.1',
    dataDir,
    logger: silentLogger,
    stopTimeoutMs: 3000,
  });
  media = new RtpengineMedia({
    instances: [{ host: rtpengine.host, port: rtpengine.port, weight: 1 }],
    logger: silentLogger,
    healthIntervalMs: 0,
  });
  ng = new NgClient({ host: rtpengine.host, port: rtpengine.port, logger: silentLogger });
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map(closeSocket));
});

afterAll(async () => {
  ng?.close();
  await media?.close();
  await rtpengine?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function socket(): Promise<Socket> {
  const s = await udpSocket();
  sockets.push(s);
  return s;
}

async function call(callId: string, callee?: Socket, injectDtmf = false) {
  const { sdp: offer, session } = await media.offer({
    injectDtmf,
    callId,
    fromTag: 'a',
    sdp: sdp({ address: '127.0.0.1', audioPort: 7000 }),
    legProfile: profiles.publicPeer,
    otherLegProfile: profiles.publicPeer,
  });
  const { sdp: answer } = await session.answer({
    toTag: 'b',
    sdp: sdp({ address: '127.0.0.1', audioPort: callee?.address().port ?? 7002 }),
  });
  return { offer, answer, session };
}

describe('session lifecycle', () => {
  it('end() deletes the call: query fails, list no longer has it, its ports can be bound again', async () => {
    const { offer, answer, session } = await call('life-delete@test');
    const ports = [mLines(offer)[0]!.port, mLines(answer)[0]!.port];
    expect(await ng.list()).toContain('life-delete@test');
    expect(await udpFree(ports[0]!)).toBe(false);

    const first = session.end();
    const second = session.end();
    expect(second).toBe(first);
    await first;
    expect(session.ended).toBe(true);
    expect(media.session('life-delete@test')).toBeUndefined();

    await expect(ng.query({ 'call-id': 'life-delete@test' })).rejects.toMatchObject({ code: 'unknown-call' });
    expect(await ng.list()).not.toContain('life-delete@test');
    for (const port of ports) expect(await udpFree(port)).toBe(true);
    expect(media.health()[0]?.calls).toBe(0);
  });

  it('media.delete(callId) ends the session and is harmless for unknown calls', async () => {
    await call('life-delete2@test');
    await media.delete('life-delete2@test');
    expect(await ng.list()).not.toContain('life-delete2@test');
    expect(await media.delete('never-existed@test')).toBeNull();
  });

  it('a re-offer (re-INVITE) on a live call keeps its session and instance', async () => {
    const { session } = await call('life-reinvite@test');
    const again = await media.offer({
      callId: 'life-reinvite@test',
      fromTag: 'a',
      sdp: sdp({ address: '127.0.0.1', audioPort: 7004 }),
      legProfile: profiles.publicPeer,
      otherLegProfile: profiles.publicPeer,
    });
    expect(again.session).toBe(session);
    await session.end();
  });

  it('a re-INVITE from the callee reverses the direction and keeps each leg on its relay port', async () => {
    const { offer, answer, session } = await call('life-reverse@test');
    const callerFacingPort = mLines(answer)[0]!.port;
    const calleeFacingPort = mLines(offer)[0]!.port;
    // The callee (tag b) now offers to the caller (tag a).
    const reOffer = await media.offer({
      callId: 'life-reverse@test',
      fromTag: 'b',
      toTag: 'a',
      sdp: sdp({ address: '127.0.0.1', audioPort: 7002 }),
      legProfile: profiles.publicPeer,
      otherLegProfile: profiles.publicPeer,
    });
    expect(reOffer.session).toBe(session);
    expect(mLines(reOffer.sdp)[0]!.port).toBe(callerFacingPort);
    const reAnswer = await session.answer({
      toTag: 'a',
      sdp: sdp({ address: '127.0.0.1', audioPort: 7000 }),
    });
    expect(mLines(reAnswer.sdp)[0]!.port).toBe(calleeFacingPort);
    await session.end();
  });

  it('the sweep deletes calls that are not in the live set and keeps the live ones', async () => {
    const live = await call('life-live@test');
    // Orphans: created behind the controller's back, as after a crash of the node that owned them.
    await ng.offer({
      'call-id': 'life-orphan-1@test',
      'from-tag': 'x',
      sdp: sdp({ address: '127.0.0.1', audioPort: 7100 }),
    });
    await ng.offer({
      'call-id': 'life-orphan-2@test',
      'from-tag': 'x',
      sdp: sdp({ address: '127.0.0.1', audioPort: 7102 }),
    });
    // And an abandoned session: the caller forgot to end it.
    const abandoned = await call('life-abandoned@test');

    // Just created: a sweep with the default minimum age leaves them for a later round.
    const early = await media.sweep(['life-live@test']);
    expect(early.deleted).toEqual([]);
    expect(early.tooYoung.sort()).toEqual(
      ['life-abandoned@test', 'life-orphan-1@test', 'life-orphan-2@test'].sort(),
    );

    const result = await media.sweep(['life-live@test'], { minAgeMs: 0 });
    expect(result.deleted.map((d) => d.callId).sort()).toEqual(
      ['life-abandoned@test', 'life-orphan-1@test', 'life-orphan-2@test'].sort(),
    );
    expect(result.unreachable).toEqual([]);
    expect(abandoned.session.ended).toBe(true);
    const left = await ng.list();
    expect(left).toContain('life-live@test');
    expect(left).not.toContain('life-orphan-1@test');
    expect(left).not.toContain('life-abandoned@test');
    await live.session.end();
  });

  it('bad SDP is refused with a clear error, before and by rtpengine', async () => {
    const base = {
      callId: 'life-bad@test',
      fromTag: 'a',
      legProfile: profiles.publicPeer,
      otherLegProfile: profiles.publicPeer,
    };
    await expect(media.offer({ ...base, sdp: '' })).rejects.toMatchObject({ code: 'bad-sdp' });
    await expect(media.offer({ ...base, sdp: 'hello' })).rejects.toMatchObject({ code: 'bad-sdp' });
    // Syntactically SDP, but rtpengine cannot use it.
    const err = await media
      .offer({ ...base, sdp: 'v=0\r\nm=audio notaport RTP/AVP 0\r\n' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('bad-sdp');
    expect((err as MediaError).reason).toMatch(/SDP/);
    expect(media.session('life-bad@test')).toBeUndefined();
    expect(await ng.list()).not.toContain('life-bad@test');
  });

  it('answer without a session is an unknown-call error', async () => {
    await expect(
      media.answer({
        callId: 'no-such@test',
        fromTag: 'a',
        toTag: 'b',
        sdp: sdp({ address: '127.0.0.1', audioPort: 7006 }),
      }),
    ).rejects.toMatchObject({ code: 'unknown-call' });
  });

  it('blocks and unblocks media', async () => {
    const [caller, callee] = await Promise.all([socket(), socket()]);
    const { answer, session } = await call('life-block@test', callee);
    const relayPort = mLines(answer)[0]!.port;
    await sendUntilReceived(caller, { address: '127.0.0.1', port: relayPort }, callee, 0, 0x7777);
    await session.blockMedia();
    const whileBlocked = await packetsReceived(caller, relayPort, callee, 0, 15);
    expect(whileBlocked.length).toBe(0);
    await session.unblockMedia();
    await sendUntilReceived(caller, { address: '127.0.0.1', port: relayPort }, callee, 0, 0x7777);
    await session.end();
  });

  it('plays a DTMF event into the call as RFC 4733 telephone-event packets', async () => {
    const [caller, callee] = await Promise.all([socket(), socket()]);
    const { answer, session } = await call('life-dtmf@test', callee, true);
    const relayPort = mLines(answer)[0]!.port;
    // Media must flow before rtpengine knows the stream to inject into.
    await sendUntilReceived(caller, { address: '127.0.0.1', port: relayPort }, callee, 0, 0x8888);
    const received = packetsReceived(caller, relayPort, callee, 0, 40);
    await session.playDtmf({ code: '5', durationMs: 100 });
    const payloadTypes = (await received).map((p) => p[1]! & 0x7f);
    expect(payloadTypes).toContain(101);
    const event = (await received).find((p) => (p[1]! & 0x7f) === 101)!;
    expect(event[12]).toBe(5); // RFC 4733 2.3: event code 5 for digit 5
    await expect(session.playDtmf({ code: 'x' })).rejects.toMatchObject({ code: 'invalid-argument' });
    await session.end();
  });

  it('plays an audio file into the call', async () => {
    const [caller, callee] = await Promise.all([socket(), socket()]);
    const { answer, session } = await call('life-play@test', callee);
    await sendUntilReceived(
      caller,
      { address: '127.0.0.1', port: mLines(answer)[0]!.port },
      callee,
      0,
      0xaaaa,
    );
    const file = join(dataDir, 'tone.wav');
    writeFileSync(file, toneWav(440, 0.5));
    // The caller's leg hears it: the callee side sends nothing, so any packet at the caller is the file.
    const heard = new Promise<Buffer>((resolve) => caller.once('message', resolve));
    const { durationMs } = await session.playMedia({ file });
    expect(durationMs === undefined || durationMs > 0).toBe(true);
    const packet = await heard;
    expect(packet[0]! >> 6).toBe(2);
    await session.stopMedia();
    await session.end();
  });

  it('records a call to the data directory', async () => {
    const [caller, callee] = await Promise.all([socket(), socket()]);
    const { answer, session } = await call('life-record@test', callee);
    await session.startRecording();
    await sendUntilReceived(
      caller,
      { address: '127.0.0.1', port: mLines(answer)[0]!.port },
      callee,
      0,
      0x9999,
    );
    await session.stopRecording();
    await session.end();
    const files = readdirSync(join(dataDir, 'recordings'), { recursive: true }).map(String);
    expect(files.some((f) => f.includes('life-record'))).toBe(true);
  });

  it('records from the first offer when asked to', async () => {
    const { session } = await media.offer({
      callId: 'life-record-offer@test',
      fromTag: 'a',
      sdp: sdp({ address: '127.0.0.1', audioPort: 7008 }),
      legProfile: profiles.publicPeer,
      otherLegProfile: profiles.publicPeer,
      record: true,
    });
    await session.end();
    const files = readdirSync(join(dataDir, 'recordings'), { recursive: true }).map(String);
    expect(files.some((f) => f.includes('life-record-offer'))).toBe(true);
  });

  it('in-call commands after end() fail with unknown-call', async () => {
    const { session } = await call('life-after@test');
    await session.end();
    await expect(session.blockMedia()).rejects.toMatchObject({ code: 'unknown-call' });
  });
});

/** Sends `count` RTP packets 20 ms apart and collects what `receiver` got meanwhile (plus 100 ms). */
async function packetsReceived(
  from: Socket,
  port: number,
  receiver: Socket,
  payloadType: number,
  count: number,
): Promise<Buffer[]> {
  const got: Buffer[] = [];
  const onMessage = (packet: Buffer): void => {
    got.push(packet);
  };
  receiver.on('message', onMessage);
  for (let seq = 1000; seq < 1000 + count; seq++) {
    from.send(rtpPacket(payloadType, seq, 0x7777), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100));
  receiver.off('message', onMessage);
  return got;
}

/** A 16-bit 8 kHz mono WAV file with a sine tone. */
function toneWav(frequency: number, seconds: number): Buffer {
  const rate = 8000;
  const samples = Math.floor(rate * seconds);
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * frequency * i) / rate)), 44 + i * 2);
  }
  return wav;
}
