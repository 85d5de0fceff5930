import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, sipHa1 } from '@switchboard/db';
import {
  analyseTones,
  type CallingSoftphone,
  readWav,
  startBaresip,
  writeToneWav,
} from '@switchboard/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, signIn } from './browser.ts';
import { launchChromium, type Platform, startPlatform } from './platform.ts';

/**
 * The portal's browser phone against the whole platform: chromium (fake microphone playing a tone file)
 * registers over wss and calls a baresip desk phone and the other way round, through rtpengine, which
 * bridges the browser's DTLS-SRTP/ICE leg to the phone's plain RTP leg; then two chromium processes (two
 * people at two computers) call each other and chat with SIP MESSAGE. Each leg's SDP is read where that leg sees it: the browser's RTCPeerConnection and the SIP
 * messages the engine sent to baresip (SIP_TRACE).
 */
const DOMAIN = 'webrtc.example.test';
const RTP = { min: 47300, max: 47359 };
const BROWSER_TONE = 1000;
const SECOND_BROWSER_TONE = 700;
const DUO_DESK_TONE = 550;
const DESK_TONE = 440;
const CUSTOMER = { email: 'phone@example.test', password: 'customer password 1' };
const SIP_PASSWORD = 'desk-sip-secret1';

let platform: Platform;
let audioDir: string;
let desk: CallingSoftphone;
/** The desk phone of subscriber `duo`, which also has a browser: it rings and leaves the answer to the browser. */
let duoDesk: CallingSoftphone | undefined;
const pages: Page[] = [];
/** The second person's browser: its own chromium process. */
let secondBrowser: Browser | undefined;
const signedIn = new Set<BrowserContext>();

/** Chromium flags for a fake microphone playing `toneFile` (and a fake camera) on loopback WebRTC. */
function mediaFlags(toneFile: string): string[] {
  return [
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-audio-capture=${toneFile}`,
    // The engine's wss listener has the launcher's self-signed certificate.
    '--ignore-certificate-errors',
    // Everything runs on loopback: gather loopback candidates, as real addresses rather than mDNS names.
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--autoplay-policy=no-user-gesture-required',
  ];
}

/** Keeps every RTCPeerConnection the page makes, so the test can read its SDP and statistics. */
function recordPeerConnections(): void {
  const Native = window.RTCPeerConnection;
  const made: RTCPeerConnection[] = [];
  (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections = made;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      made.push(this);
    }
  };
}

interface CallMedia {
  local: string;
  remote: string;
  packetsReceived: number;
  audioEnergy: number;
}

/** The latest call's descriptions and received audio of the page's peer connection. */
function callMedia(page: Page): Promise<CallMedia | undefined> {
  return page.evaluate(async () => {
    const made = (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections;
    const pc = made[made.length - 1];
    if (!pc) return undefined;
    let packetsReceived = 0;
    let audioEnergy = 0;
    (await pc.getStats()).forEach(
      (report: { type: string; kind?: string; packetsReceived?: number; totalAudioEnergy?: number }) => {
        if (report.type !== 'inbound-rtp' || report.kind !== 'audio') return;
        packetsReceived += report.packetsReceived ?? 0;
        audioEnergy += report.totalAudioEnergy ?? 0;
      },
    );
    return {
      local: pc.localDescription?.sdp ?? '',
      remote: pc.remoteDescription?.sdp ?? '',
      packetsReceived,
      audioEnergy,
    };
  });
}

/** The latest call's received video (inbound-rtp of kind video) of the page's peer connection. */
function videoReceived(page: Page): Promise<{ packetsReceived: number; framesDecoded: number } | undefined> {
  return page.evaluate(async () => {
    const made = (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections;
    const pc = made[made.length - 1];
    if (!pc) return undefined;
    let packetsReceived = 0;
    let framesDecoded = 0;
    (await pc.getStats()).forEach(
      (report: { type: string; kind?: string; packetsReceived?: number; framesDecoded?: number }) => {
        if (report.type !== 'inbound-rtp' || report.kind !== 'video') return;
        packetsReceived += report.packetsReceived ?? 0;
        framesDecoded += report.framesDecoded ?? 0;
      },
    );
    return { packetsReceived, framesDecoded };
  });
}

const sdpLines = (sdp: string, prefix: string) => sdp.split(/\r?\n/).filter((l) => l.startsWith(prefix));

/** A browser leg as RFC 8827/8829 want it: DTLS-SRTP with a fingerprint, ICE candidates, rtcp-mux, no SDES. */
function expectBrowserLeg(sdp: string): void {
  expect(sdpLines(sdp, 'm=audio')[0], sdp).toMatch(/ UDP\/TLS\/RTP\/SAVPF /);
  expect(sdpLines(sdp, 'a=fingerprint:'), sdp).not.toHaveLength(0);
  expect(sdpLines(sdp, 'a=candidate:'), sdp).not.toHaveLength(0);
  expect(sdpLines(sdp, 'a=rtcp-mux'), sdp).not.toHaveLength(0);
  expect(sdpLines(sdp, 'a=crypto:'), sdp).toHaveLength(0);
}

/** A SIP phone leg: plain RTP/AVP, no ICE, no DTLS. */
function expectPhoneLeg(sdp: string): void {
  expect(sdpLines(sdp, 'm=audio')[0], sdp).toMatch(/ RTP\/AVP /);
  expect(sdpLines(sdp, 'a=candidate:'), sdp).toHaveLength(0);
  expect(sdpLines(sdp, 'a=ice-ufrag:'), sdp).toHaveLength(0);
  expect(sdpLines(sdp, 'a=fingerprint:'), sdp).toHaveLength(0);
}

/** The body of the last SIP message the engine sent over `transport` whose text matches `pattern`. */
function sentSdp(transport: string, pattern: RegExp): string {
  const sent = platform
    .logEvents()
    .filter((e) => e.dir === 'send' && e.transport === transport && pattern.test(String(e.msg)));
  const message = String(sent[sent.length - 1]?.msg ?? '');
  const body = message
    .split(/\r?\n\r?\n/)
    .slice(1)
    .join('\n\n');
  if (!body.includes('m=audio')) throw new Error(`no ${pattern} with SDP sent over ${transport}`);
  return body;
}

/**
 * `sentSdp` for a message that has just gone out: the engine's trace line reaches the test through
 * the platform's log, which can trail the message itself (and what the peer shows of it) under load.
 */
/**
 * `waiting` (a phone's call event), or its failure with the engine's last SIP messages (SIP_TRACE)
 * appended: their start and CSeq lines show whether the phone was sent what it waited for (this suite
 * has failed under load with a desk phone that had audio but never reported its call established).
 */
async function withSipTrace(waiting: Promise<void>): Promise<void> {
  try {
    await waiting;
  } catch (error) {
    const lines = platform
      .logEvents()
      .filter((e) => e.component === 'sip-trace')
      .slice(-40)
      .map((e) => {
        const text = String(e.msg);
        const cseq = /^CSeq:.*$/im.exec(text)?.[0] ?? '';
        return `${String(e.dir)} ${String(e.transport)} ${text.split(/\r?\n/, 1)[0]} | ${cseq}`;
      });
    throw new Error(`${(error as Error).message}\nthe engine's last SIP messages:\n${lines.join('\n')}`);
  }
}

async function sentSdpSoon(transport: string, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return sentSdp(transport, pattern);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function registered(aor: string, output?: () => string): Promise<void> {
  try {
    await eventually(() => platform.prisma.registration.findFirst({ where: { aor } }), 20_000);
  } catch {
    throw new Error(`${aor} did not register\n${output?.().slice(-3000) ?? ''}`);
  }
}

/** A customer tab of `context` (the platform's browser unless given) on the browser phone page, registered as `username`. */
async function openPhone(username: string, context: BrowserContext = platform.browser): Promise<Page> {
  const page = pages.length === 0 ? platform.page : await context.newPage();
  page.setDefaultTimeout(20_000);
  pages.push(page);
  if (!signedIn.has(context)) {
    signedIn.add(context);
    await signIn(platform, page, CUSTOMER.email, CUSTOMER.password);
    await page.getByRole('heading', { level: 1, name: 'My phones' }).waitFor();
  }
  await page.goto(`${platform.baseUrl}/portal/phone`);
  await page.getByRole('heading', { level: 1, name: 'Browser phone' }).waitFor();
  await page.getByLabel('Phone', { exact: true }).selectOption({ label: `sip:${username}@${DOMAIN}` });
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByTestId('phone-status').getByText('Registered').waitFor();
  await registered(`sip:${username}@${DOMAIN}`);
  return page;
}

async function dial(page: Page, target: string): Promise<void> {
  await page.getByLabel('Call to', { exact: true }).fill(target);
  await page.getByRole('button', { name: 'Call', exact: true }).click();
}

const callStatus = (page: Page, status: string) =>
  page.getByTestId('call-status').getByText(status).waitFor();

/** Bounded wait until the page's call has received `packets` audio packets; its media then. */
function receiving(page: Page, packets = 100): Promise<CallMedia> {
  return eventually(async () => {
    const media = await callMedia(page);
    return media && media.packetsReceived >= packets ? media : undefined;
  }, 20_000);
}

function expectTone(recording: string, expected: number, other: number): void {
  const analysis = analyseTones(readWav(recording), [expected, other]);
  const summary = JSON.stringify({ ...analysis, share: Object.fromEntries(analysis.share) });
  expect(analysis.voicedSeconds, summary).toBeGreaterThanOrEqual(2);
  expect(analysis.share.get(expected), summary).toBeGreaterThan(0.5);
  expect(analysis.share.get(other) ?? 0, summary).toBeLessThan(0.05);
}

beforeAll(async () => {
  audioDir = mkdtempSync(join(tmpdir(), 'sb-web-webrtc-'));
  // Chromium's fake microphone plays this file in a loop; baresip sends its own tone.
  writeToneWav(join(audioDir, 'browser.wav'), BROWSER_TONE, 30, 48000);
  writeToneWav(join(audioDir, 'second.wav'), SECOND_BROWSER_TONE, 30, 48000);
  writeToneWav(join(audioDir, 'desk.wav'), DESK_TONE, 60);
  writeToneWav(join(audioDir, 'duo-desk.wav'), DUO_DESK_TONE, 60);
  platform = await startPlatform(
    'webrtc',
    { SIP_LISTEN: 'udp:127.0.0.1:0,wss:127.0.0.1:0', SIP_TRACE: 'true' },
    RTP,
    mediaFlags(join(audioDir, 'browser.wav')),
  );
  await platform.browser.addInitScript(recordPeerConnections);
  const { prisma } = platform;
  const customer = await prisma.customer.create({ data: { name: 'Browser Phones Ltd' } });
  const domain = await prisma.domain.create({ data: { name: DOMAIN } });
  for (const username of ['web1', 'web2', 'web3', 'desk', 'duo'])
    await prisma.subscriber.create({
      data: {
        customerId: customer.id,
        domainId: domain.id,
        username,
        ...sipHa1(username, DOMAIN, SIP_PASSWORD),
      },
    });
  await prisma.user.create({
    data: {
      email: CUSTOMER.email,
      passwordHash: await hashPassword(CUSTOMER.password),
      role: 'customer',
      customerId: customer.id,
    },
  });
  desk = await startBaresip(
    { user: 'desk', domain: DOMAIN, password: SIP_PASSWORD, registrar: platform.sipAddress },
    { play: join(audioDir, 'desk.wav') },
  );
  await registered(`sip:desk@${DOMAIN}`, () =>
    [
      desk.output(),
      ...platform
        .logEvents()
        .slice(-30)
        .map((e) => JSON.stringify(e)),
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  desk?.stop();
  duoDesk?.stop();
  await secondBrowser?.close().catch(() => undefined);
  await platform?.close();
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
}, 60_000);

describe('browser phone', () => {
  it('calls a SIP desk phone: DTLS-SRTP with ICE on the browser leg, plain RTP on the phone leg, the tone arrives', async () => {
    const page = await openPhone('web1');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByText('Browser phone').count()).toBe(1);
    await dial(page, 'desk');
    await withSipTrace(desk.waitFor('established', 20_000));
    await callStatus(page, 'active');
    const media = await receiving(page);
    expectBrowserLeg(media.local);
    expectBrowserLeg(media.remote);
    expectPhoneLeg(sentSdp('udp', /^\s*INVITE sip:desk[-@]/));
    // Talk a little, so that baresip records several seconds of the browser's tone.
    await page.waitForTimeout(4000);
    await platform.screenshot(page, 'browser-phone-call');

    // A key on the keypad reaches the phone as an RFC 4733 telephone-event through the relay.
    await page.getByRole('button', { name: '5', exact: true }).click();
    await desk.waitFor('dtmf', 10_000);

    // Hold is a re-INVITE whose offer reaches the phone as sendonly (RFC 3264 §8.4); resume makes it sendrecv.
    await page.getByRole('button', { name: 'Hold' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    const held = sentSdp('udp', /^\s*INVITE sip:desk[-@]/);
    expectPhoneLeg(held);
    expect(sdpLines(held, 'a=sendonly'), held).toHaveLength(1);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Hold' }).waitFor();
    expect(sdpLines(sentSdp('udp', /^\s*INVITE sip:desk[-@]/), 'a=sendonly')).toHaveLength(0);

    // Mute stops the microphone track the call sends.
    const sending = () =>
      page.evaluate(() => {
        const made = (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections;
        return made[made.length - 1]?.getSenders().some((s) => s.track?.kind === 'audio' && s.track.enabled);
      });
    await page.getByRole('button', { name: 'Mute' }).click();
    await page.getByRole('button', { name: 'Unmute' }).waitFor();
    expect(await sending()).toBe(false);
    await page.getByRole('button', { name: 'Unmute' }).click();
    await page.getByRole('button', { name: 'Mute' }).waitFor();
    expect(await sending()).toBe(true);
    await page.waitForTimeout(2000);
    await page.getByRole('button', { name: 'Hang up' }).click();
    await desk.waitFor('closed', 15_000);
    await page.getByRole('button', { name: 'Call', exact: true }).waitFor();
    expectTone(desk.recording(), BROWSER_TONE, DESK_TONE);
  });

  it('is called by the desk phone, answers, and each side hears the other', async () => {
    const page = pages[0]!;
    desk.dial(`sip:web1@${DOMAIN}`);
    await page.getByText('Incoming call from').waitFor();
    await page.getByRole('button', { name: 'Answer' }).click();
    await withSipTrace(desk.waitFor('established', 20_000));
    const media = await receiving(page);
    expectBrowserLeg(media.remote);
    expectBrowserLeg(media.local);
    // The relay's answer to the desk phone, in the engine's 200 OK over UDP.
    expectPhoneLeg(sentSdp('udp', /^\s*SIP\/2\.0 200 OK[\s\S]*CSeq: \d+ INVITE/));
    expect(media.audioEnergy).toBeGreaterThan(0);
    await page.waitForTimeout(4000);
    desk.hangup();
    await desk.waitFor('closed', 15_000);
    await page.getByRole('button', { name: 'Call', exact: true }).waitFor();
    expectTone(desk.recording(), BROWSER_TONE, DESK_TONE);
  });

  it('two chromium browsers call each other through the relay with audio both ways', async () => {
    const first = pages[0]!;
    secondBrowser = await launchChromium(mediaFlags(join(audioDir, 'second.wav')));
    const context = await secondBrowser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(recordPeerConnections);
    const second = await openPhone('web2', context);
    // Two browser processes, not two tabs of one.
    expect(second.context().browser()).toBe(secondBrowser);
    expect(first.context().browser()).not.toBe(secondBrowser);
    await dial(first, 'web2');
    await second.getByText('Incoming call from').waitFor();
    await second.getByRole('button', { name: 'Answer' }).click();
    await callStatus(first, 'active');
    for (const page of [first, second]) {
      const media = await receiving(page);
      expectBrowserLeg(media.local);
      expectBrowserLeg(media.remote);
      expect(media.audioEnergy).toBeGreaterThan(0);
    }
    // Each browser's peer is the relay, not the other browser: DTLS-SRTP ends on both sides of it.
    const [a, b] = [await callMedia(first), await callMedia(second)];
    expect(sdpLines(a!.remote, 'a=fingerprint:')).not.toEqual(sdpLines(b!.local, 'a=fingerprint:'));
    await platform.screenshot(second, 'browser-phone-second-browser');
    await first.getByRole('button', { name: 'Hang up' }).click();
    await second.getByRole('button', { name: 'Call', exact: true }).waitFor();
  });

  it('chats with SIP MESSAGE: sent and received live, with the delivery state of the history', async () => {
    const [first, second] = [pages[0]!, pages[1]!];
    const chat = (page: Page) => page.getByRole('log', { name: 'Conversation' });
    const send = async (page: Page, to: string, text: string) => {
      await page.getByLabel('Message to', { exact: true }).fill(to);
      await page.getByLabel('Message', { exact: true }).fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
    };

    await send(first, 'web2', 'Lunch at noon?');
    // It arrives live in the other browser ...
    await chat(second).getByLabel('Received message').filter({ hasText: 'Lunch at noon?' }).waitFor();
    // ... and the sender's history shows it delivered, as the platform stored it.
    const sent = chat(first).getByLabel('Sent message').filter({ hasText: 'Lunch at noon?' });
    await sent.getByText('delivered', { exact: true }).waitFor();
    expect(await sent.textContent()).toContain(`To sip:web2@${DOMAIN}`);

    await send(second, 'web1', 'Yes, see you there');
    await chat(first).getByLabel('Received message').filter({ hasText: 'Yes, see you there' }).waitFor();
    await chat(second)
      .getByLabel('Sent message')
      .filter({ hasText: 'Yes, see you there' })
      .getByText('delivered', { exact: true })
      .waitFor();

    // A phone that is not registered: stored for its next registration (202), shown as waiting.
    await send(first, 'web3', 'Call me back');
    await chat(first)
      .getByLabel('Sent message')
      .filter({ hasText: 'Call me back' })
      .getByText('waiting for the phone to come online')
      .waitFor()
      .catch(async (error: unknown) => {
        throw new Error(`${(error as Error).message}\n${await chatDiagnosis(first, 'Call me back')}`);
      });
    const stored = await platform.prisma.message.findMany({ orderBy: { createdAt: 'asc' } });
    expect(
      stored.map((m) => [m.fromUri, m.toUri, m.body, m.status]),
      JSON.stringify(stored),
    ).toEqual([
      [`sip:web1@${DOMAIN}`, `sip:web2@${DOMAIN}`, 'Lunch at noon?', 'delivered'],
      [`sip:web2@${DOMAIN}`, `sip:web1@${DOMAIN}`, 'Yes, see you there', 'delivered'],
      [`sip:web1@${DOMAIN}`, `sip:web3@${DOMAIN}`, 'Call me back', 'queued'],
    ]);
    // Each message shows once, also the live one after the history was read again.
    await first.waitForTimeout(2500);
    expect(await chat(first).getByText('Yes, see you there').count()).toBe(1);
    await platform.screenshot(first, 'browser-phone-chat');
  });

  it('a subscriber with a browser and a desk phone: each device is offered its own media profile, the browser answers', async () => {
    duoDesk = await startBaresip(
      { user: 'duo', domain: DOMAIN, password: SIP_PASSWORD, registrar: platform.sipAddress },
      { play: join(audioDir, 'duo-desk.wav'), answer: 'manual' },
    );
    await registered(`sip:duo@${DOMAIN}`, () => duoDesk?.output() ?? '');
    const duoPage = await openPhone('duo', pages[1]!.context());
    await eventually(
      async () =>
        (await platform.prisma.registration.count({ where: { aor: `sip:duo@${DOMAIN}` } })) === 2 ||
        undefined,
    );

    desk.dial(`sip:duo@${DOMAIN}`);
    await withSipTrace(duoDesk.waitFor('incoming', 20_000));
    await duoPage.getByText('Incoming call from').waitFor();
    // Each fork carried the offer for its own kind of leg: WebRTC over wss, plain RTP over udp.
    const toDuo = /^\s*INVITE [^\r\n]*\r?\n[\s\S]*^To:[^\r\n]*sip:duo@/m;
    expectBrowserLeg(await sentSdpSoon('wss', toDuo));
    expectPhoneLeg(await sentSdpSoon('udp', toDuo));

    await duoPage.getByRole('button', { name: 'Answer' }).click();
    await withSipTrace(desk.waitFor('established', 20_000));
    // The desk phone's fork is cancelled once the browser has answered.
    await duoDesk.waitFor('closed', 15_000);
    const media = await receiving(duoPage);
    expectBrowserLeg(media.local);
    expectBrowserLeg(media.remote);
    expect(media.audioEnergy).toBeGreaterThan(0);
    // The caller got the browser's answer translated to plain RTP.
    expectPhoneLeg(sentSdp('udp', /^\s*SIP\/2\.0 200 OK[\s\S]*CSeq: \d+ INVITE/));
    await duoPage.waitForTimeout(4000);
    desk.hangup();
    await desk.waitFor('closed', 15_000);
    await duoPage.getByRole('button', { name: 'Call', exact: true }).waitFor();
    // The caller heard the browser (its fake microphone's tone), not the desk phone that rang alongside.
    expectTone(desk.recording(), SECOND_BROWSER_TONE, DUO_DESK_TONE);
  });

  it('two browsers call each other with video: an m=video line on both legs and video packets both ways', async () => {
    const [first, second] = [pages[0]!, pages[1]!];
    await first.getByLabel('Video', { exact: true }).check();
    await dial(first, 'web2');
    await second.getByText('Incoming call from').waitFor();
    await second.getByRole('button', { name: 'Answer' }).click();
    await callStatus(first, 'active');
    for (const page of [first, second]) {
      const video = await eventually(async () => {
        const received = await videoReceived(page);
        return received && received.packetsReceived >= 50 ? received : undefined;
      }, 20_000);
      const media = await callMedia(page);
      for (const sdp of [media!.local, media!.remote]) {
        const mVideo = sdpLines(sdp, 'm=video');
        expect(mVideo, sdp).toHaveLength(1);
        expect(mVideo[0], sdp).toMatch(/^m=video [1-9]\d* UDP\/TLS\/RTP\/SAVPF /);
      }
      expect(video.framesDecoded, JSON.stringify(video)).toBeGreaterThan(0);
      expect(await page.getByLabel('Remote video').count()).toBe(1);
    }
    await platform.screenshot(second, 'browser-phone-video');
    await first.getByRole('button', { name: 'Hang up' }).click();
    await second.getByRole('button', { name: 'Call', exact: true }).waitFor();
    await first.getByLabel('Video', { exact: true }).uncheck();
  });
});

/**
 * What the platform and the page saw of a chat message that did not show as expected: the page's
 * conversation and alert, the stored rows, and every SIP message (SIP_TRACE) and log event about it.
 */
async function chatDiagnosis(page: Page, body: string): Promise<string> {
  const conversation = await page
    .getByRole('log', { name: 'Conversation' })
    .textContent()
    .catch(() => '(no conversation)');
  const alert = await page
    .getByRole('alert')
    .allTextContents()
    .catch(() => []);
  const stored = await platform.prisma.message.findMany({ orderBy: { createdAt: 'asc' } });
  const messageCallIds = new Set<string>();
  for (const event of platform.logEvents()) {
    const text = typeof event.msg === 'string' ? event.msg : '';
    if (text.includes(body)) {
      const callId = /^(?:Call-ID|i):\s*(\S+)/im.exec(text)?.[1];
      if (callId) messageCallIds.add(callId);
    }
  }
  const related = platform.logEvents().filter((event) => {
    const text = JSON.stringify(event);
    return (
      text.includes(body) ||
      [...messageCallIds].some((id) => text.includes(id)) ||
      (event.component !== 'sip-trace' && /message/i.test(String(event.msg)))
    );
  });
  return [
    `page conversation: ${conversation}`,
    `page alerts: ${JSON.stringify(alert)}`,
    `stored messages: ${JSON.stringify(stored.map((m) => [m.toUri, m.body, m.status, m.createdAt]))}`,
    `platform events about it (${related.length}):`,
    ...related.slice(-40).map((event) => JSON.stringify(event).slice(0, 3000)),
  ].join('\n');
}
