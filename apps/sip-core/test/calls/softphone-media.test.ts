import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CdrMediaStats } from '@switchboard/db';
import { type CallingSoftphone, startBaresip, startLinphonec, writeToneWav } from '@switchboard/testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { expectTone } from './support/audio.ts';
import { type CallStack, DOMAIN, startCallStack, untilBound } from './support/stack.ts';

/**
 * Real softphones through engine + sip-core + rtpengine + PostgreSQL: baresip (alice) and linphonec
 * (bob) register with digest, one calls the other, each sends its own tone and records what it
 * receives. The far end's tone must come out of each recording, and the CDR must show the relay
 * carried the packets of both legs.
 */

const ALICE_TONE = 440;
const BOB_TONE = 1000;
/** Seconds the call stays up so a few seconds of each tone are recorded. */
const TALK_SECONDS = 4;

let stack: CallStack;
let audioDir: string;
const phones: CallingSoftphone[] = [];

beforeAll(async () => {
  stack = await startCallStack({ alice: 'alice-secret', bob: 'bob-secret' });
  audioDir = mkdtempSync(join(tmpdir(), 'sipcore-tones-'));
  // Longer than any call here: a source that ran dry would send silence.
  writeToneWav(join(audioDir, 'alice.wav'), ALICE_TONE, 60);
  writeToneWav(join(audioDir, 'bob.wav'), BOB_TONE, 60);
}, 60_000);

afterEach(() => {
  for (const phone of phones.splice(0)) phone.stop();
});

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await stack?.close();
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
}, 30_000);

/** Both phones registered: alice on baresip, bob on linphonec. */
async function startPhones(): Promise<{ alice: CallingSoftphone; bob: CallingSoftphone }> {
  // Bindings left by the previous test's phones (killed, never unregistered) would be rung too.
  await stack.testDb.db.prisma.registration.deleteMany({});
  await stack.sipCore.location.load();
  const registrar = stack.sipAddress;
  const alice = await startBaresip(
    { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar },
    { play: join(audioDir, 'alice.wav') },
  );
  phones.push(alice);
  const bob = await startLinphonec(
    { user: 'bob', domain: DOMAIN, password: 'bob-secret', registrar },
    { play: join(audioDir, 'bob.wav') },
  );
  phones.push(bob);
  await untilBound(stack, 'alice', alice, 'baresip');
  await untilBound(stack, 'bob', bob, 'linphone');
  return { alice, bob };
}

/** Bounded wait for the newest CDR to be completed. */
async function completedCdr(before: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const rows = await stack.testDb.db.prisma.cdr.findMany({ orderBy: { createdAt: 'desc' } });
    const row = rows[0];
    if (rows.length > before && row && row.sipReason !== IN_PROGRESS) {
      expect(rows.length).toBe(before + 1);
      return row;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the CDR was not completed');
}

/** Both legs of the call went through the relay, in both directions. */
function expectRelayed(stats: CdrMediaStats | null): void {
  expect(stats?.a?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(50);
  expect(stats?.b?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(50);
}

/**
 * `caller` dials `callee`, both talk for TALK_SECONDS, `caller` hangs up; returns the completed CDR
 * once both phones closed the call (their recordings are complete then).
 */
async function talk(caller: CallingSoftphone, callee: CallingSoftphone, calleeUser: string) {
  const before = await stack.testDb.db.prisma.cdr.count();
  caller.dial(`sip:${calleeUser}@${DOMAIN}`);
  await Promise.all([caller.waitFor('established'), callee.waitFor('established')]);
  expect(stack.sipCore.activeCalls()).toHaveLength(1);
  await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
  caller.hangup();
  await Promise.all([caller.waitFor('closed'), callee.waitFor('closed')]);
  return completedCdr(before);
}

describeOnEngine(onEngine('real softphones with media through rtpengine'), { timeout: 90_000 }, () => {
  it('baresip calls linphonec: each hears the other tone, the relay carried both legs', async () => {
    const { alice, bob } = await startPhones();
    const cdr = await talk(alice, bob, 'bob');
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'Caller hung up',
      callerSubscriberId: stack.subscribers.get('alice'),
      calleeSubscriberId: stack.subscribers.get('bob'),
    });
    expect(cdr.durationMs).toBeGreaterThanOrEqual((TALK_SECONDS - 1) * 1000);
    expectRelayed(cdr.mediaStats as CdrMediaStats | null);
    expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
    expectTone(bob.recording(), ALICE_TONE, BOB_TONE);
  });

  it('linphonec calls baresip: each hears the other tone, the relay carried both legs', async () => {
    const { alice, bob } = await startPhones();
    const cdr = await talk(bob, alice, 'alice');
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'Caller hung up',
      callerSubscriberId: stack.subscribers.get('bob'),
      calleeSubscriberId: stack.subscribers.get('alice'),
    });
    expect(cdr.durationMs).toBeGreaterThanOrEqual((TALK_SECONDS - 1) * 1000);
    expectRelayed(cdr.mediaStats as CdrMediaStats | null);
    expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
    expectTone(bob.recording(), ALICE_TONE, BOB_TONE);
  });
});
