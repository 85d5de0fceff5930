import type { CallStatistics } from '@switchboard/media';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
} from './support/stack.ts';

/**
 * Audio and video through the B2BUA: sipp plays alice (caller) and bob (registered callee), each
 * announcing media on an address of its own (127.0.0.7 / 127.0.0.8) that the other side must never
 * see. Every SDP is checked where it arrives: each m-line on a relay port, the relay's address in c=,
 * a refused stream (port 0, RFC 3264 §6) relayed as refused.
 */

let stack: CallStack;
let bobPort: number;
let gatewayPort: number;
/** The PSTN gateway's address; the trusted peer calls from PEER. */
const GATEWAY = '127.0.0.9';
const PEER = '127.0.0.2';

beforeAll(async () => {
  gatewayPort = await allocatePort();
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    { ringTimeout: 10 },
    async (db, _tenant, subscribers) => {
      const prisma = db.db.prisma;
      // bob's DID for the peer's call; any other number goes to the one gateway.
      await addPrimaryNumber(prisma, subscribers.get('bob') ?? '', '+4930222222');
      await addCarrier(prisma, [{ name: 'gw', host: GATEWAY, port: gatewayPort, priority: 1 }]);
    },
    {
      trustedSources: [PEER],
    },
  );
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

/**
 * The relay's view of the call while it is answered: waits (bounded) for sip-core to report the call
 * answered, then queries its media session on rtpengine until `ready` holds for what it reports
 * (the last report when the call ends first).
 */
async function relayViewOfAnsweredCall(
  ready: (stats: CallStatistics) => boolean = () => true,
): Promise<CallStatistics | null> {
  let last: CallStatistics | null = null;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const answered = stack.sipCore.activeCalls().find((c) => c.state === 'answered');
    const session = answered && stack.media.media.session(answered.callId);
    if (session && !session.ended) {
      const stats = await session.query();
      if (stats) {
        last = stats;
        if (ready(stats)) return stats;
      }
    } else if (last) {
      return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

/**
 * Where the relay sends each leg's RTP (address of the rtp streams with a port), by side: the caller's
 * From tag is its sipp call number, `1`. This is what the leg's profile decided: a registered phone's
 * SDP address is ignored for its SIP source (127.0.0.1), a gateway's or peer's is trusted.
 */
function mediaDestinations(stats: CallStatistics | null): { caller: string[]; callee: string[] } {
  const of = (caller: boolean) => [
    ...new Set(
      (stats?.legs ?? [])
        .filter((leg) => (leg.tag === '1') === caller)
        .flatMap((leg) => leg.streams)
        .filter((s) => s.component === 'rtp' && s.localPort > 0)
        .map((s) => s.remoteAddress ?? 'none'),
    ),
  ];
  return { caller: of(true), callee: of(false) };
}

/** Whether the relay has a video m-line in the call at all (anchored or refused). */
function hasVideo(stats: CallStatistics): boolean {
  return stats.legs.some((leg) => leg.streams.some((s) => s.mediaType === 'video'));
}

/** Video known to the relay but refused: no relay port for it on any leg, audio still anchored. */
function videoRefused(stats: CallStatistics): boolean {
  return hasVideo(stats) && mediaTypesPerLeg(stats).every((types) => types.join() === 'audio');
}

/** The media types the relay has a stream with a port for, per leg (in tag order). */
function mediaTypesPerLeg(stats: CallStatistics | null): string[][] {
  return (stats?.legs ?? []).map((leg) =>
    [...new Set(leg.streams.filter((s) => s.localPort > 0).map((s) => s.mediaType))].sort(),
  );
}

/** Who calls whom: alice -> bob (both registered phones), alice -> the PSTN, a peer -> bob's DID. */
interface Route {
  callee: string;
  toGateway?: boolean;
  fromPeer?: boolean;
}
const ROUTES = {
  internal: { callee: 'bob' },
  toPstn: { callee: '+4930555123', toGateway: true },
  fromPeer: { callee: '+4930222222', fromPeer: true },
} satisfies Record<string, Route>;

/**
 * Runs the callee's UAS scenario and the caller's UAC scenario; returns the call's completed CDR and
 * the relay's view of the call while it was answered.
 */
async function call(
  uas: string,
  uac: string,
  ready?: (stats: CallStatistics) => boolean,
  route: Route = ROUTES.internal,
) {
  const before = await stack.testDb.db.prisma.cdr.count();
  const relay = relayViewOfAnsweredCall(ready);
  const callee = runSipp({
    scenario: uas,
    port: route.toGateway ? gatewayPort : bobPort,
    localIp: route.toGateway ? GATEWAY : undefined,
    timeoutS: 20,
  });
  await callee.listening();
  const caller = runSipp({
    scenario: uac,
    port: await allocatePort(),
    remote: stack.sipAddress,
    localIp: route.fromPeer ? PEER : undefined,
    fields: route.fromPeer
      ? ['+4915100000', 'unused', DOMAIN, route.callee]
      : callFields('alice', 'alice-secret', route.callee),
    authUri: `${route.callee}@${DOMAIN}`,
    timeoutS: 20,
  });
  const [uacResult, uasResult, relayView] = await Promise.all([caller.done, callee.done, relay]);
  expectSippOk(uacResult, uac);
  expectSippOk(uasResult, uas);
  const cdr = await completedCdr(stack, before);
  // The call's media session was deleted on rtpengine: nothing is left for the orphan sweep.
  const sweep = await stack.media.media.sweep([], { minAgeMs: 0 });
  expect(sweep.deleted).toEqual([]);
  return { cdr, relayView };
}

describeOnEngine(onEngine('audio and video'), () => {
  it('both streams accepted: each side gets both m-lines on the relay, CDR answered', async () => {
    const { cdr, relayView } = await call('uas-answer-video.xml', 'uac-call-video.xml');
    expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, sipReason: 'Caller hung up' });
    expect(cdr.answeredAt).not.toBeNull();
    // natSubscriber on both legs: the announced 127.0.0.7 / 127.0.0.8 are ignored for the SIP source.
    expect(mediaDestinations(relayView)).toEqual({ caller: ['127.0.0.1'], callee: ['127.0.0.1'] });
    // Both legs were anchored with an audio and a video stream.
    expect(mediaTypesPerLeg(relayView)).toEqual([
      ['audio', 'video'],
      ['audio', 'video'],
    ]);
    expect(stack.sipCore.activeCalls()).toEqual([]);
  }, 60_000);

  it('video refused by the callee: the caller gets video with port 0 and audio on the relay', async () => {
    const { cdr, relayView } = await call('uas-answer-video-audio-only.xml', 'uac-call-video-declined.xml');
    expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, sipReason: 'Caller hung up' });
    expect(cdr.answeredAt).not.toBeNull();
    // rtpengine released the refused stream's ports on both legs; audio stays anchored.
    expect(relayView && hasVideo(relayView)).toBe(true);
    expect(mediaTypesPerLeg(relayView)).toEqual([['audio'], ['audio']]);
  }, 60_000);

  it('the relay still anchors calls after a refused stream', async () => {
    const { cdr, relayView } = await call('uas-answer-video.xml', 'uac-call-video.xml');
    expect(cdr).toMatchObject({ disposition: 'answered', sipReason: 'Caller hung up' });
    expect(mediaTypesPerLeg(relayView)).toEqual([
      ['audio', 'video'],
      ['audio', 'video'],
    ]);
  }, 60_000);

  it('video added by re-INVITE and refused: the call goes on with audio on the relay', async () => {
    const { cdr, relayView } = await call('uas-answer-add-video.xml', 'uac-call-add-video.xml', videoRefused);
    expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, sipReason: 'Caller hung up' });
    // Once the re-INVITE is answered, the relay knows the video m-line, refused (no port) on both
    // legs (the poll returns the last view if that never happens, failing below).
    expect(relayView && hasVideo(relayView)).toBe(true);
    expect(mediaTypesPerLeg(relayView)).toEqual([['audio'], ['audio']]);
  }, 60_000);
  it("video added by the callee's re-INVITE and taken by the caller: both streams anchored", async () => {
    const bothAnchored = (stats: CallStatistics) =>
      mediaTypesPerLeg(stats).every((types) => types.join() === 'audio,video');
    const { cdr, relayView } = await call(
      'uas-answer-offer-video.xml',
      'uac-call-accept-video.xml',
      bothAnchored,
    );
    expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, sipReason: 'Callee hung up' });
    expect(mediaTypesPerLeg(relayView)).toEqual([
      ['audio', 'video'],
      ['audio', 'video'],
    ]);
  }, 60_000);
});

describeOnEngine(onEngine('audio and video with the other profile on one leg'), () => {
  it('a phone calls the PSTN with video, the gateway takes audio only: video refused, audio anchored', async () => {
    const { cdr, relayView } = await call(
      'uas-answer-video-audio-only.xml',
      'uac-call-video-declined.xml',
      undefined,
      ROUTES.toPstn,
    );
    expect(cdr).toMatchObject({
      direction: 'outbound',
      disposition: 'answered',
      sipReason: 'Caller hung up',
    });
    // The phone's leg follows its SIP source, the gateway's leg the address its SDP announced.
    expect(mediaDestinations(relayView)).toEqual({ caller: ['127.0.0.1'], callee: ['127.0.0.8'] });
    expect(relayView && hasVideo(relayView)).toBe(true);
    expect(mediaTypesPerLeg(relayView)).toEqual([['audio'], ['audio']]);
  }, 60_000);

  it("a peer calls a DID with video and the subscriber's phone takes both: both anchored", async () => {
    const { cdr, relayView } = await call(
      'uas-answer-video.xml',
      'uac-peer-call-video.xml',
      undefined,
      ROUTES.fromPeer,
    );
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      calleeSubscriberId: stack.subscribers.get('bob'),
    });
    expect(mediaTypesPerLeg(relayView)).toEqual([
      ['audio', 'video'],
      ['audio', 'video'],
    ]);
    // The peer's leg (publicPeer) goes to the address its SDP announced for both streams; the
    // phone's (natSubscriber) to its SIP source, not the 127.0.0.8 it announced.
    expect(mediaDestinations(relayView)).toEqual({ caller: ['127.0.0.7'], callee: ['127.0.0.1'] });
  }, 60_000);
});
