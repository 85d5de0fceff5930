import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@switchboard/db';
import {
  type CallingSoftphone,
  type PcmAudio,
  readWav,
  startBaresip,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { promptSeconds, toneSeconds, waitFor } from './support/audio.ts';
import { expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, DOMAIN, registerWithSipp, startCallStack } from './support/stack.ts';

/**
 * Voicemail's two greetings through engine + sip-core + rtpengine + PostgreSQL with real peers. bob's
 * box has an unavailable greeting (a 600 Hz tone) and a busy one (1400 Hz), and CFNA and CFB both to
 * voicemail. alice (baresip, sending silence) calls him while nothing of his is registered: she hears
 * 600 Hz, not 1400 Hz; then bob's phone (sipp) answers 486: she hears 1400 Hz, not 600 Hz. Then bob
 * dials *98 from a baresip that sends a 900 Hz tone, types his PIN, 0 (mailbox options) and 1 (the
 * unavailable greeting) as RFC 4733 events, ends the recording with #, hears it played back and keeps
 * it with 1: the box's unavailable greeting is now that recording (8 kHz WAV, the old file gone); 2 in
 * the same menu does the same for the busy greeting, leaving the unavailable one. alice, sent to bob's
 * box by a hunt group nobody answers, hears 900 Hz.
 */

const UNAVAILABLE_HZ = 600;
const BUSY_HZ = 1400;
const RECORDED_HZ = 900;
const GREETING_SECONDS = 3;
const PIN = '1357';

let stack: CallStack;
let dataDir: string;
const phones: CallingSoftphone[] = [];
const greetings = () => join(dataDir, 'voicemail', 'greetings');

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sipcore-vm-greetings-'));
  writeToneWav(join(dataDir, 'silence.wav'), 0, 60);
  writeToneWav(join(dataDir, 'recorded.wav'), RECORDED_HZ, 120);
  mkdirSync(greetings(), { recursive: true });
  // As an upload leaves them: 8 kHz mono WAV files named in the box's columns.
  writeToneWav(join(greetings(), 'bob-unavailable.wav'), UNAVAILABLE_HZ, GREETING_SECONDS);
  writeToneWav(join(greetings(), 'bob-busy.wav'), BUSY_HZ, GREETING_SECONDS);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const bob = subscribers.get('bob') ?? '';
      await prisma.voicemailBox.create({
        data: {
          subscriberId: bob,
          pinHash: await hashPassword(PIN),
          greeting: 'bob-unavailable.wav',
          busyGreeting: 'bob-busy.wav',
        },
      });
      for (const type of ['cfb', 'cfna'] as const)
        await prisma.callForward.create({
          data: {
            subscriberId: bob,
            type,
            destinations: { create: [{ position: 1, kind: 'voicemail', destination: '' }] },
          },
        });
      // Nobody answers the group (carol has nothing registered): bob's box takes the call.
      await prisma.huntGroup.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'support',
          name: 'Support',
          strategy: 'sequential',
          ringTimeout: 2,
          noAnswerKind: 'voicemail',
          noAnswerDestination: 'bob',
          members: { create: [{ subscriberId: subscribers.get('carol') ?? '', position: 0 }] },
        },
      });
    },
    { voicemail: { dataDir } },
  );
  await stack.sipCore.voicemail?.promptsReady;
}, 180_000);

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const bindingsOf = (user: string) => stack.sipCore.location.lookup(`sip:${user}@${DOMAIN}`).length;

/** A baresip of `user` sending `play`, once it added a binding of its own (bounded wait). */
async function phone(user: string, play: string): Promise<CallingSoftphone> {
  const before = bindingsOf(user);
  const softphone = await startBaresip(
    { user, domain: DOMAIN, password: `${user}-secret`, registrar: stack.sipAddress },
    { play },
  );
  phones.push(softphone);
  for (let attempt = 0; attempt < 80 && bindingsOf(user) <= before; attempt++) await sleep(250);
  if (bindingsOf(user) <= before)
    throw new Error(`${user} did not register:\n${softphone.output().slice(-3000)}`);
  return softphone;
}

/** alice calls `callee` and listens through the greeting; what she received. */
async function aliceHearsGreeting(callee: string): Promise<PcmAudio> {
  for (const p of phones.splice(0)) p.stop();
  const alice = await phone('alice', join(dataDir, 'silence.wav'));
  alice.dial(`sip:${callee}@${DOMAIN}`);
  await alice.waitFor('established', 30_000);
  await sleep((GREETING_SECONDS + 1) * 1000);
  alice.hangup();
  await alice.waitFor('closed');
  return readWav(alice.recording());
}

describeOnEngine(onEngine('voicemail: unavailable and busy greetings'), { timeout: 240_000 }, () => {
  it('a call sent by CFNA hears the unavailable greeting', async () => {
    const heard = await aliceHearsGreeting('bob');
    expect(toneSeconds(heard, UNAVAILABLE_HZ)).toBeGreaterThanOrEqual(GREETING_SECONDS - 1);
    expect(toneSeconds(heard, BUSY_HZ)).toBe(0);
  });

  it("a call sent by CFB (bob's phone answers 486) hears the busy greeting", async () => {
    const port = await registerWithSipp(stack, 'bob', 'bob-secret');
    const busy = runSipp({ scenario: 'uas-busy.xml', port, timeoutS: 40 });
    await busy.listening();
    const heard = await aliceHearsGreeting('bob');
    expectSippOk(await busy.done, 'bob (uas-busy)');
    expect(toneSeconds(heard, BUSY_HZ)).toBeGreaterThanOrEqual(GREETING_SECONDS - 1);
    expect(toneSeconds(heard, UNAVAILABLE_HZ)).toBe(0);
  });

  it('bob records both greetings by phone (*98, PIN, 0, 1 or 2, #, 1); the next call hears the unavailable one', async () => {
    const prisma = stack.testDb.db.prisma;
    const bobId = stack.subscribers.get('bob') ?? '';
    for (const p of phones.splice(0)) p.stop();
    const bob = await phone('bob', join(dataDir, 'recorded.wav'));
    bob.dial(`sip:*98@${DOMAIN}`);
    await bob.waitFor('established', 20_000);
    await sleep(1500);
    // Typed ahead: the PIN, then 0 (mailbox options) and 1 (record the unavailable greeting) skip the
    // prompts between them.
    await bob.sendDigits?.(`${PIN}#01`);
    // "Record your greeting after the tone", the beep, then five seconds of bob's tone; # ends it.
    await sleep(((await promptSeconds(dataDir, 'vm-record-greeting')) + 0.3 + 5) * 1000);
    await bob.sendDigits?.('#');
    // The recording is played back to him before he keeps it.
    await sleep(3500);
    await bob.sendDigits?.('1');
    const box = await waitFor('the recorded greeting kept', async () => {
      const row = await prisma.voicemailBox.findUniqueOrThrow({ where: { subscriberId: bobId } });
      return row.greeting !== 'bob-unavailable.wav' ? row : undefined;
    });
    expect(box.busyGreeting).toBe('bob-busy.wav');
    expect(existsSync(join(greetings(), 'bob-unavailable.wav'))).toBe(false);
    const recorded = readWav(join(greetings(), box.greeting ?? ''));
    expect(recorded.sampleRate).toBe(8000);
    expect(toneSeconds(recorded, RECORDED_HZ)).toBeGreaterThanOrEqual(3);

    // Back in the mailbox options ("Your greeting has been saved" first): 2 records the busy greeting.
    await bob.sendDigits?.('2');
    await sleep(
      ((await promptSeconds(dataDir, 'vm-greeting-saved')) +
        (await promptSeconds(dataDir, 'vm-record-greeting')) +
        0.3 +
        5) *
        1000,
    );
    await bob.sendDigits?.('#');
    await sleep(3500);
    await bob.sendDigits?.('1');
    const both = await waitFor('the recorded busy greeting kept', async () => {
      const row = await prisma.voicemailBox.findUniqueOrThrow({ where: { subscriberId: bobId } });
      return row.busyGreeting !== 'bob-busy.wav' ? row : undefined;
    });
    bob.hangup();
    await bob.waitFor('closed');
    expect(toneSeconds(readWav(bob.recording()), RECORDED_HZ)).toBeGreaterThanOrEqual(4);
    expect(both.greeting).toBe(box.greeting);
    expect(existsSync(join(greetings(), 'bob-busy.wav'))).toBe(false);
    expect(
      toneSeconds(readWav(join(greetings(), both.busyGreeting ?? '')), RECORDED_HZ),
    ).toBeGreaterThanOrEqual(3);

    // The hunt group nobody answers sends alice to bob's box: the new unavailable greeting plays.
    const heard = await aliceHearsGreeting('support');
    expect(toneSeconds(heard, RECORDED_HZ)).toBeGreaterThanOrEqual(GREETING_SECONDS - 1);
    expect(toneSeconds(heard, UNAVAILABLE_HZ)).toBe(0);
    expect(toneSeconds(heard, BUSY_HZ)).toBe(0);
  });
});
