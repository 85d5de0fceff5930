import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCallCaptures } from '@switchboard/media';
import { ensurePrompts } from '@switchboard/media-endpoint';
import {
  analyseTones,
  type CallingSoftphone,
  readWav,
  startBaresip,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import {
  type CallStack,
  closeCallStack,
  completedCdr,
  DOMAIN,
  startCallStack,
  untilBound,
} from './support/stack.ts';

/**
 * Recording on demand through engine + sip-core + a real rtpengine (pcap recording, DTMF reports over
 * UDP) + PostgreSQL, with two baresips: the customer records `on_demand` with the announcement on. Alice
 * sends silence, bob a 1000 Hz tone. A call without the code leaves no recording and bob hears nothing;
 * a call where alice presses `*1` (RFC 4733), talks, and presses `*1` again has one recording holding
 * only that part, and bob hears the generated announcement ("This call may be recorded") when it starts.
 */

const BOB_TONE = 1000;

let stack: CallStack;
let work: string;
const phones: CallingSoftphone[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sipcore-recording-demand-'));
  writeToneWav(join(work, 'silence.wav'), 0, 60);
  writeToneWav(join(work, 'bob.wav'), BOB_TONE, 60);
  // The prompt sip-core plays from $DATA_DIR/prompts, generated as at a platform's first start.
  expect(await ensurePrompts(join(work, 'prompts'), undefined, ['recording-announcement'])).toEqual([]);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    {},
    async (db, tenant) => {
      await db.db.prisma.customer.update({
        where: { id: tenant.customerId },
        data: { recordingMode: 'on_demand', recordingAnnouncement: true },
      });
    },
    { recording: { dataDir: work, announcementPrompts: join(work, 'prompts') } },
  );
}, 90_000);

afterEach(() => {
  for (const phone of phones.splice(0)) phone.stop();
});

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await closeCallStack(stack);
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Quarter seconds of `file` louder than silence (about -40 dBFS): what was heard of the prompt. */
function voicedQuarters(file: string): number {
  const { samples, sampleRate } = readWav(file);
  const window = sampleRate / 4;
  let voiced = 0;
  for (let start = 0; start + window <= samples.length; start += window) {
    let energy = 0;
    for (let i = start; i < start + window; i++) energy += (samples[i] ?? 0) ** 2;
    if (Math.sqrt(energy / window) > 0.01) voiced++;
  }
  return voiced;
}

/** The phone's received-audio file once it stopped growing (bounded: 3 s). */
async function settled(file: string): Promise<string> {
  let last = -1;
  for (let attempt = 0; attempt < 15; attempt++) {
    const size = statSync(file).size;
    if (size === last) break;
    last = size;
    await sleep(200);
  }
  return file;
}

describeOnEngine(onEngine('call recording on demand'), { timeout: 120_000 }, () => {
  it('records only between the two *1 codes, and announces it to the callee', async () => {
    const registrar = stack.sipAddress;
    const alice = await startBaresip(
      { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar },
      { play: join(work, 'silence.wav') },
    );
    phones.push(alice);
    const bob = await startBaresip(
      { user: 'bob', domain: DOMAIN, password: 'bob-secret', registrar, address: '127.0.0.2' },
      { play: join(work, 'bob.wav') },
    );
    phones.push(bob);
    await untilBound(stack, 'alice', alice);
    await untilBound(stack, 'bob', bob);

    // Without the code: no recording, nothing announced.
    let before = await stack.testDb.db.prisma.cdr.count();
    alice.dial(`sip:bob@${DOMAIN}`);
    await Promise.all([alice.waitFor('established'), bob.waitFor('established')]);
    await sleep(3_000);
    alice.hangup();
    await Promise.all([alice.waitFor('closed'), bob.waitFor('closed')]);
    const plain = await completedCdr(stack, before);
    expect(plain).toMatchObject({ disposition: 'answered' });
    expect(voicedQuarters(await settled(bob.recording()))).toBe(0);

    // With it: recording from the first *1 to the second, the announcement at the start.
    before = await stack.testDb.db.prisma.cdr.count();
    alice.dial(`sip:bob@${DOMAIN}`);
    await Promise.all([alice.waitFor('established'), bob.waitFor('established')]);
    const answeredAt = Date.now();
    await sleep(3_000);
    await alice.sendDigits?.('*1');
    await sleep(4_000);
    await alice.sendDigits?.('*1');
    await sleep(3_000);
    alice.hangup();
    const talkedMs = Date.now() - answeredAt;
    await Promise.all([alice.waitFor('closed'), bob.waitFor('closed')]);
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({ disposition: 'answered' });
    // At least half of the prompt's voiced quarter seconds reach bob (alice only sends silence).
    const heard = voicedQuarters(await settled(bob.recording()));
    const prompt = voicedQuarters(join(work, 'prompts', 'default', 'recording-announcement.wav'));
    expect(prompt).toBeGreaterThanOrEqual(4);
    expect(heard, 'bob hears the announcement').toBeGreaterThanOrEqual(prompt / 2);
    // Alice heard it too, and bob's tone again after it (the parties' audio, held back meanwhile, flows).
    const aliceHeard = readWav(alice.recording());
    const lastSeconds = aliceHeard.samples.subarray(aliceHeard.samples.length - 2 * aliceHeard.sampleRate);
    const after = analyseTones({ sampleRate: aliceHeard.sampleRate, samples: lastSeconds }, [BOB_TONE]);
    expect(after.share.get(BOB_TONE)).toBeGreaterThan(0.8);

    let rows: Awaited<ReturnType<typeof stack.testDb.db.prisma.callRecording.findMany>> = [];
    for (let attempt = 0; attempt < 100 && rows.length === 0; attempt++) {
      rows = await stack.testDb.db.prisma.callRecording.findMany({ where: { cdrId: cdr.id } });
      if (rows.length === 0) await sleep(100);
    }
    expect(rows).toHaveLength(1);
    const recording = rows[0]!;
    expect(recording.customerId).toBe(stack.tenant.customerId);
    // The part between the codes (4 s and the keys' 0.4 s), not the 10 s call.
    expect(recording.durationMs).toBeGreaterThan(2_500);
    expect(recording.durationMs).toBeLessThan(6_500);
    expect(talkedMs).toBeGreaterThan(9_500);
    const right = analyseTones(readWav(join(work, 'recordings', 'calls', recording.filePath), 1), [BOB_TONE]);
    expect(right.voicedSeconds).toBeGreaterThanOrEqual(2);
    expect(right.voicedSeconds).toBeLessThanOrEqual(6);
    expect(right.share.get(BOB_TONE)).toBeGreaterThan(0.5);

    // The call without the code left neither a row nor a capture.
    expect(await stack.testDb.db.prisma.callRecording.count({ where: { cdrId: plain.id } })).toBe(0);
    expect(await findCallCaptures(join(work, 'recordings'), plain.callId)).toEqual([]);
    // The recorded call's captures are removed once its file is stored (just after the row is written).
    let left = await findCallCaptures(join(work, 'recordings'), cdr.callId);
    for (let attempt = 0; attempt < 50 && left.length > 0; attempt++) {
      await sleep(100);
      left = await findCallCaptures(join(work, 'recordings'), cdr.callId);
    }
    expect(left).toEqual([]);
  });
});
