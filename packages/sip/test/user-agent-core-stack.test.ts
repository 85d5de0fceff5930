import { afterEach, describe, expect, it } from 'vitest';
import { Dialog } from '../src/dialogs/index.ts';
import { createCancel, createRequest, createResponse, type SipResponse } from '../src/messages/index.ts';
import {
  type ClientTransaction,
  type InviteClientTransaction,
  type ServerTransaction,
  TransactionManager,
} from '../src/transactions/index.ts';
import { TransportLayer } from '../src/transport/index.ts';
import { attachUserAgentCore, type ServerRequest } from '../src/user-agent-core/index.ts';

/** The user-agent core on a real TransactionManager over loopback UDP: CANCEL and ACK as the wire sees them. */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function endpoint() {
  const layer = new TransportLayer();
  const info = await layer.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
  const manager = new TransactionManager(layer, { timers: { t1: 50, t2: 400, t4: 500 } });
  cleanups.push(async () => {
    manager.close();
    await layer.close();
  });
  return { info, manager };
}

async function until(predicate: () => boolean, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function responses(tx: ClientTransaction): SipResponse[] {
  const list: SipResponse[] = [];
  tx.on('response', (r) => list.push(r));
  return list;
}

async function uasAndCaller() {
  const callee = await endpoint();
  const caller = await endpoint();
  const pending: Array<ServerRequest<ServerTransaction, string, undefined>> = [];
  const cancelled: string[] = [];
  const acked: string[] = [];
  const core = attachUserAgentCore<string, undefined>(callee.manager, {
    outOfDialog: (txn) => {
      pending.push(core.track(txn, 'tu'));
    },
    inDialog: () => {},
    cancelled: (request) => cancelled.push(request.id),
    ack: (ack) => acked.push(ack.callId),
  });
  const target = { transport: 'udp' as const, address: '127.0.0.1', port: callee.info.port };
  const invite = createRequest({
    method: 'INVITE',
    uri: `sip:bob@127.0.0.1:${callee.info.port}`,
    from: 'sip:alice@127.0.0.1',
    to: 'sip:bob@127.0.0.1',
    contact: 'sip:alice@127.0.0.1',
  });
  const tx = caller.manager.sendRequest(invite, target) as InviteClientTransaction;
  const got = responses(tx);
  await until(() => pending.length === 1 && got.length > 0);
  return { core, callee, caller, target, invite, tx, got, pending, cancelled, acked };
}

describe('UserAgentCore on a TransactionManager: CANCEL (RFC 3261 §9.2)', () => {
  it('a CANCEL before the answer gets 200 and the INVITE 487; the TU hears of it', async () => {
    const { caller, tx, got, pending, cancelled } = await uasAndCaller();
    const cancelTx = caller.manager.cancel(tx)!;
    const cancelAnswers = responses(cancelTx);
    await until(() => cancelAnswers.length > 0 && got.some((r) => r.status >= 200));
    expect(cancelAnswers[0]!.status).toBe(200);
    expect(got.at(-1)!.status).toBe(487);
    expect(cancelled).toEqual([pending[0]!.id]);
    expect(pending[0]!.state).toBe('cancelled');
  });

  it('a CANCEL after the 200 gets 200 and changes nothing: the call stands', async () => {
    const { core, caller, target, invite, got, pending, cancelled } = await uasAndCaller();
    const request = pending[0]!;
    const ok = createResponse(request.request, 200, {
      toTag: request.localTag,
      headers: [['Contact', '<sip:bob@127.0.0.1>']],
    });
    const dialog = core.respond(request, ok, { usage: 'invite', options: () => ({}) });
    await until(() => got.some((r) => r.status === 200));
    const cancelTx = caller.manager.sendRequest(createCancel(invite), target);
    const cancelAnswers = responses(cancelTx);
    await until(() => cancelAnswers.length > 0);
    expect(cancelAnswers[0]!.status).toBe(200);
    expect(cancelled).toEqual([]);
    expect(dialog?.state).toBe('confirmed');
  });

  it('a CANCEL for no INVITE gets 481', async () => {
    const { caller, target } = await uasAndCaller();
    // an INVITE never sent: its CANCEL gets a fresh Via branch that names no server transaction
    const neverSent = createRequest({
      method: 'INVITE',
      uri: `sip:carol@127.0.0.1:${target.port}`,
      from: 'sip:alice@127.0.0.1',
      to: 'sip:carol@127.0.0.1',
    });
    neverSent.setHeader('Via', `SIP/2.0/UDP 127.0.0.1:${caller.info.port};branch=z9hG4bKnotthere;rport`);
    const other = createCancel(neverSent);
    const cancelTx = caller.manager.sendRequest(other, target);
    const cancelAnswers = responses(cancelTx);
    await until(() => cancelAnswers.length > 0);
    expect(cancelAnswers[0]!.status).toBe(481);
  });
});

describe('UserAgentCore on a TransactionManager: the ACK for a 2xx (RFC 3261 §13.3.1.4)', () => {
  it('hands the first ACK to the TU once, and the 2xx stops being retransmitted', async () => {
    const { core, callee, caller, target, got, pending, acked } = await uasAndCaller();
    let arrived = 0;
    callee.manager.on('ack', () => arrived++);
    const request = pending[0]!;
    const ok = createResponse(request.request, 200, {
      toTag: request.localTag,
      headers: [['Contact', '<sip:bob@127.0.0.1>']],
    });
    const dialog = core.respond(request, ok, { usage: 'invite', options: () => ({}) })!;
    await until(() => got.some((r) => r.status === 200));
    // The caller's side of the dialog builds the ACK (§13.2.2.4) and sends it twice, as a retransmission would.
    const callerDialog = Dialog.fromUac(request.request, got.find((r) => r.status === 200)!);
    const ack = callerDialog.createAck(request.request.cseq.seq);
    await caller.manager.sendAck(ack, target);
    await caller.manager.sendAck(ack, target);
    await until(() => arrived === 2);
    expect(acked).toEqual([request.request.callId]);
    expect(core.ackTimeout(request.txn)).toBeUndefined();
    expect(dialog.state).toBe('confirmed');
  });
});
