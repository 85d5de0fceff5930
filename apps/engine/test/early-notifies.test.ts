import { parseMessage, type SipRequest, type SipResponse } from '@switchboard/sip';
import { describe, expect, it } from 'vitest';
import { EarlyNotifies } from '../src/bridge/early-notifies.ts';
import type { IncomingTransaction } from '../src/bridge/sip-stack.ts';

/** A NOTIFY from the notifier to our SUBSCRIBE's From tag, as a server transaction that records answers. */
function notify(callId: string, toTag: string): { txn: IncomingTransaction; answers: number[] } {
  const request = parseMessage(
    Buffer.from(
      [
        'NOTIFY sip:192.0.2.1:5060 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKearly1',
        'From: <sip:resource@127.0.0.1>;tag=far',
        `To: <sip:watcher@192.0.2.1>;tag=${toTag}`,
        `Call-ID: ${callId}`,
        'CSeq: 1 NOTIFY',
        'Event: presence',
        'Subscription-State: active',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  ) as SipRequest;
  const answers: number[] = [];
  const txn = {
    request,
    respond: async (response: SipResponse) => {
      answers.push(response.status);
      return undefined as never;
    },
  } as unknown as IncomingTransaction;
  return { txn, answers };
}

describe('NOTIFYs ahead of their SUBSCRIBE final response (RFC 6665 §4.1.2.4)', () => {
  it('holds only a NOTIFY to the From tag of a SUBSCRIBE still waiting, and hands it over once settled', () => {
    const early = new EarlyNotifies(60_000);
    early.subscribing('c1', 'ours');
    const other = notify('c1', 'someone-else');
    expect(early.hold(other.txn)).toBe(false);
    const held = notify('c1', 'ours');
    expect(early.hold(held.txn)).toBe(true);
    const taken: IncomingTransaction[] = [];
    early.settle('c1', 'ours', (txn) => taken.push(txn));
    expect(taken).toEqual([held.txn]);
    expect(early.size).toBe(0);
    // Settled: a later NOTIFY is no longer held here.
    expect(early.hold(notify('c1', 'ours').txn)).toBe(false);
  });

  it('answers 481 to what it holds when no final response comes in time, and on close', async () => {
    const early = new EarlyNotifies(20);
    early.subscribing('c2', 'ours');
    const held = notify('c2', 'ours');
    early.hold(held.txn);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(held.answers).toEqual([481]);
    expect(early.size).toBe(0);

    const closing = new EarlyNotifies(60_000);
    closing.subscribing('c3', 'ours');
    const pending = notify('c3', 'ours');
    closing.hold(pending.txn);
    closing.close();
    expect(pending.answers).toEqual([481]);
  });
});
