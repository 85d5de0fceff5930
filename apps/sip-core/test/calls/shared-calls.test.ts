import { CALL_STATES_CHANNEL } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ActiveCallInfo } from '../../src/calls/call-types.ts';
import { parseCallStates, SharedCalls } from '../../src/calls/shared-calls.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** Two processes' call announcements through a real PostgreSQL's NOTIFY, as clustered workers share them. */

const log = pino({ level: 'silent' });
let testDb: TestDatabase;
const stops: Array<() => Promise<void>> = [];
const shared: SharedCalls[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  for (const s of shared) s.close();
  for (const stop of stops) await stop();
  await testDb.drop();
});

function call(callId: string, state: ActiveCallInfo['state']): ActiveCallInfo {
  return {
    callId,
    state,
    direction: 'internal',
    caller: 'alice',
    callee: 'bob',
    callerSubscriberId: 'sub-alice',
    calleeSubscriberId: 'sub-bob',
    callerWithheld: false,
    startedAt: new Date(1_700_000_000_000),
    answeredAt: state === 'answered' ? new Date(1_700_000_005_000) : undefined,
    codecs: state === 'answered' ? ['PCMA/8000'] : [],
    relay: null,
  };
}

/** A process: its calls (settable), its SharedCalls listening on the channel, and what it heard. */
async function worker(node: string, refreshMs = 60_000) {
  const local: ActiveCallInfo[] = [];
  const heard: ActiveCallInfo[] = [];
  const calls = new SharedCalls({
    prisma: testDb.db.prisma,
    origin: `${node}#test`,
    node,
    localCalls: () => local,
    log,
    refreshMs,
  });
  calls.onRemoteChange((c) => heard.push(c));
  shared.push(calls);
  stops.push(await testDb.db.onChange(CALL_STATES_CHANNEL, (payload) => calls.heard(payload)));
  return { local, heard, calls };
}

describe('SharedCalls', () => {
  it("announces a process's call changes to the others, who list them with their node and drop them at the end", async () => {
    const a = await worker('node-a');
    const b = await worker('node-a/2');
    a.calls.localChanged(call('c1', 'trying'));
    a.calls.localChanged(call('c1', 'answered'));
    await vi.waitFor(() => expect(b.calls.list()).toHaveLength(1), { timeout: 5_000, interval: 20 });
    const [listed] = b.calls.list();
    expect(listed).toMatchObject({ callId: 'c1', state: 'answered', node: 'node-a', codecs: ['PCMA/8000'] });
    expect(listed?.answeredAt).toEqual(new Date(1_700_000_005_000));
    // Changes of one window go out as one: the listener heard the answered state only.
    expect(b.heard.map((c) => c.state)).toEqual(['answered']);
    // Its own announcements are not listed as another's.
    expect(a.calls.list()).toEqual([]);
    a.calls.localChanged(call('c1', 'ended'));
    await vi.waitFor(() => expect(b.calls.list()).toEqual([]), { timeout: 5_000, interval: 20 });
    expect(b.heard.at(-1)).toMatchObject({ callId: 'c1', state: 'ended' });
  });

  it('takes the calls of a process that stopped announcing as ended after three refresh periods', async () => {
    const dying = await worker('node-dying', 100);
    const watcher = await worker('node-watcher', 100);
    dying.local.push(call('c2', 'answered'));
    dying.calls.localChanged(call('c2', 'answered'));
    await vi.waitFor(() => expect(watcher.calls.list()).toHaveLength(1), { timeout: 5_000, interval: 20 });
    // Still announced every 100 ms: listed well past three periods.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(watcher.calls.list()).toHaveLength(1);
    dying.calls.close();
    await vi.waitFor(() => expect(watcher.calls.list()).toEqual([]), { timeout: 5_000, interval: 20 });
    expect(watcher.heard.at(-1)).toMatchObject({ callId: 'c2', state: 'ended', node: 'node-dying' });
  });

  it('ignores payloads that are not call states, and calls without the fields a list needs', () => {
    expect(parseCallStates('not json')).toBeUndefined();
    expect(parseCallStates(JSON.stringify({ origin: 'x', calls: [] }))).toBeUndefined();
    const wire = { ...call('ok', 'early'), startedAt: 1 };
    const parsed = parseCallStates(
      JSON.stringify({
        origin: 'x',
        node: 'n',
        calls: [wire, { callId: 'no-state' }, { ...wire, state: 'odd' }],
      }),
    );
    expect(parsed?.calls.map((c) => c.callId)).toEqual(['ok']);
  });
});
