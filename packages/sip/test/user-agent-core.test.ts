import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Dialog } from '../src/dialogs/index.ts';
import { createResponse, parseMessage, type SipRequest, type SipResponse } from '../src/messages/index.ts';
import { UserAgentCore } from '../src/user-agent-core/index.ts';

/** A server or client transaction as the core sees it, recording what the core sent through it. */
interface FakeTxn {
  request: SipRequest;
  sent: SipResponse[];
}

function txn(raw: string): FakeTxn {
  return { request: parseMessage(raw) as SipRequest, sent: [] };
}

function request(
  method: string,
  opts: { toTag?: string; fromTag?: string; cseq?: number; branch?: string; extra?: string } = {},
): FakeTxn {
  const toTag = opts.toTag ? `;tag=${opts.toTag}` : '';
  return txn(
    `${method} sip:bob@192.0.2.4 SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=${opts.branch ?? `z9hG4bK${method}${opts.cseq ?? 1}`}\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:alice@192.0.2.1>;tag=${opts.fromTag ?? 'alice1'}\r\n` +
      `To: <sip:bob@192.0.2.4>${toTag}\r\n` +
      'Call-ID: core-1\r\n' +
      `CSeq: ${opts.cseq ?? 1} ${method}\r\n` +
      'Contact: <sip:alice@192.0.2.1>\r\n' +
      (opts.extra ?? '') +
      'Content-Length: 0\r\n\r\n',
  );
}

function respond(req: SipRequest, status: number, toTag: string, extra: Array<[string, string]> = []) {
  return createResponse(req, status, {
    toTag,
    headers: [['Contact', '<sip:bob@192.0.2.4>'], ...extra],
  });
}

function makeCore(options: { forks?: 'per-tag' | 'per-request'; answerTimeoutMs?: number } = {}) {
  const terminated: Dialog<string>[] = [];
  const core = new UserAgentCore<FakeTxn, FakeTxn, string, string>({
    send: (t, response) => t.sent.push(response),
    t1Ms: 500,
    dialogTerminated: (d) => terminated.push(d),
    ...options,
  });
  return { core, terminated };
}

const uas = { usage: 'invite' as const, options: () => ({ data: 'uas-data' }) };
const uac = { usage: 'invite' as const, options: () => ({ data: 'uac-data' }) };

/** An incoming INVITE answered 200 by the TU: a confirmed UAS dialog with our tag `bob1`. */
function confirmedUas(core: UserAgentCore<FakeTxn, FakeTxn, string, string>) {
  const invite = request('INVITE');
  expect(core.receiveRequest(invite)).toEqual({ kind: 'out-of-dialog' });
  const pending = core.track(invite, 'app');
  pending.localTag = 'bob1';
  const ok = respond(invite.request, 200, 'bob1');
  const dialog = core.answering(pending, ok, uas)!;
  core.answered(pending, ok, () => {});
  return { invite, pending, dialog };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('UserAgentCore: routing received requests (RFC 3261 §8.2, §12.2.2)', () => {
  it('sends a request without To tag out of dialog and one with the dialog ids to its dialog', () => {
    const { core } = makeCore();
    const { dialog } = confirmedUas(core);
    const info = request('INFO', { toTag: 'bob1', cseq: 2 });
    expect(core.receiveRequest(info)).toEqual({ kind: 'in-dialog', dialog });
    expect(dialog.remoteSeq).toBe(2);
    expect(info.sent).toEqual([]);
  });

  it('answers 500 to a CSeq lower than the last one in the dialog', () => {
    const { core } = makeCore();
    const { dialog } = confirmedUas(core);
    core.receiveRequest(request('INFO', { toTag: 'bob1', cseq: 5 }));
    const late = request('INFO', { toTag: 'bob1', cseq: 3 });
    expect(core.receiveRequest(late)).toEqual({ kind: 'handled' });
    expect(late.sent.map((r) => r.status)).toEqual([500]);
    expect(dialog.remoteSeq).toBe(5);
  });

  it('answers 481 to a request with a To tag for no dialog, unless the TU takes it', () => {
    const { core } = makeCore();
    const stray = request('BYE', { toTag: 'nobody', cseq: 2 });
    expect(core.receiveRequest(stray)).toEqual({ kind: 'handled' });
    expect(stray.sent.map((r) => r.status)).toEqual([481]);

    const taken: FakeTxn[] = [];
    const proxying = new UserAgentCore<FakeTxn, FakeTxn, string, string>({
      send: (t, r) => t.sent.push(r),
      unknownDialog: (t) => taken.push(t) > 0,
    });
    const routed = request('BYE', { toTag: 'nobody', cseq: 2 });
    expect(proxying.receiveRequest(routed)).toEqual({ kind: 'handled' });
    expect(routed.sent).toEqual([]);
    expect(taken).toEqual([routed]);
  });

  it('ends the INVITE dialog on BYE and then answers 481 to what follows', () => {
    const { core, terminated } = makeCore();
    const { dialog } = confirmedUas(core);
    const bye = request('BYE', { toTag: 'bob1', cseq: 2 });
    expect(core.receiveRequest(bye)).toEqual({ kind: 'in-dialog', dialog });
    core.track(bye, 'app', dialog);
    expect(dialog.state).toBe('terminated');
    expect(terminated).toEqual([dialog]);
    const after = request('INFO', { toTag: 'bob1', cseq: 3 });
    core.receiveRequest(after);
    expect(after.sent.map((r) => r.status)).toEqual([481]);
  });
});

describe('UserAgentCore: CANCEL (RFC 3261 §9.2)', () => {
  it('answers 487 to a pending INVITE and ends the early dialog its 180 made', () => {
    const { core, terminated } = makeCore();
    const invite = request('INVITE');
    const pending = core.track(invite, 'app');
    const ringing = respond(invite.request, 180, pending.localTag);
    const early = core.answering(pending, ringing, uas)!;
    expect(early.state).toBe('early');
    const cancelled = core.receiveCancel(invite);
    expect(cancelled).toBe(pending);
    expect(pending.state).toBe('cancelled');
    expect(invite.sent.map((r) => [r.status, r.toTag])).toEqual([[487, pending.localTag]]);
    expect(core.serverRequest(pending.id)).toBeUndefined();
    // the 487 is a failure: the early dialog of the 180 ends with it (§12.1)
    expect(terminated).toEqual([early]);
    expect(core.dialogs.size).toBe(0);
  });

  it('leaves an INVITE alone once it was finally answered', () => {
    const { core } = makeCore();
    const { invite, pending } = confirmedUas(core);
    expect(core.receiveCancel(invite)).toBeUndefined();
    expect(pending.state).toBe('answered');
    expect(invite.sent).toEqual([]);
  });
});

describe('UserAgentCore: UAS dialogs (RFC 3261 §12.1.1)', () => {
  it('makes an early dialog on a 1xx with tag, confirms it on the 2xx, and waits for the ACK', () => {
    const { core } = makeCore();
    const invite = request('INVITE');
    const pending = core.track(invite, 'app');
    expect(core.answering(pending, respond(invite.request, 100, pending.localTag), uas)).toBeUndefined();
    const early = core.answering(pending, respond(invite.request, 183, pending.localTag), uas)!;
    expect(early.state).toBe('early');
    expect(early.role).toBe('uas');
    expect(early.data).toBe('uas-data');
    const ok = respond(invite.request, 200, pending.localTag);
    expect(core.answering(pending, ok, uas)).toBe(early);
    core.answered(pending, ok, () => {});
    expect(early.state).toBe('confirmed');
    expect(core.dialogs.size).toBe(1);
    expect(pending.state).toBe('answered');
  });

  it('does not keep the early dialog of an INVITE answered with a failure', () => {
    const { core, terminated } = makeCore();
    const invite = request('INVITE');
    const pending = core.track(invite, 'app');
    const early = core.answering(pending, respond(invite.request, 180, pending.localTag), uas)!;
    const busy = respond(invite.request, 486, pending.localTag);
    core.answering(pending, busy, uas);
    core.answered(pending, busy, () => {});
    expect(terminated).toEqual([early]);
    expect(core.dialogs.size).toBe(0);
  });

  it('hands the first ACK for the 2xx over and absorbs its retransmissions (§13.3.1.4)', () => {
    const { core } = makeCore();
    const { dialog } = confirmedUas(core);
    const ack = request('ACK', { toTag: 'bob1', branch: 'z9hG4bKack1' }).request;
    expect(core.receiveAck(ack)).toEqual({ kind: 'first', dialog });
    expect(core.receiveAck(ack)).toEqual({ kind: 'retransmission', dialog });
    const unknown = request('ACK', { toTag: 'other', branch: 'z9hG4bKack2' }).request;
    expect(core.receiveAck(unknown)).toEqual({ kind: 'no-dialog' });
  });

  it('reports a 2xx never ACKed once, and not after the ACK came', () => {
    const { core } = makeCore();
    const { invite, dialog } = confirmedUas(core);
    expect(core.ackTimeout(invite)).toBe(dialog);
    expect(core.ackTimeout(invite)).toBeUndefined();

    const second = makeCore().core;
    const answered = confirmedUas(second);
    second.receiveAck(request('ACK', { toTag: 'bob1', branch: 'z9hG4bKack3' }).request);
    expect(second.ackTimeout(answered.invite)).toBeUndefined();
  });

  it('answers 408 when the TU does not answer in time', () => {
    const { core } = makeCore({ answerTimeoutMs: 64_000 });
    const invite = request('INVITE');
    const pending = core.track(invite, 'app');
    vi.advanceTimersByTime(63_999);
    expect(invite.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(invite.sent.map((r) => r.status)).toEqual([408]);
    expect(pending.pending).toBe(false);
  });
});

describe('UserAgentCore: reliable provisionals on the dialog (RFC 3262)', () => {
  function reliable183(core: UserAgentCore<FakeTxn, FakeTxn, string, string>) {
    const invite = request('INVITE', { extra: 'Supported: 100rel\r\n' });
    const pending = core.track(invite, 'app');
    const progress = respond(invite.request, 183, pending.localTag, [['Require', '100rel']]);
    const dialog = core.answering(pending, progress, uas)!;
    const resend = vi.fn();
    core.answered(pending, progress, resend);
    return { invite, pending, progress, dialog, resend };
  }

  it('numbers the 1xx, retransmits it until the PRACK naming its RSeq', () => {
    const { core } = makeCore();
    const { pending, progress, dialog, resend } = reliable183(core);
    const rseq = progress.rseq!;
    expect(rseq).toBeGreaterThan(0);
    vi.advanceTimersByTime(500);
    expect(resend).toHaveBeenCalledTimes(1);
    const prack = request('PRACK', { toTag: pending.localTag, cseq: 2, extra: `RAck: ${rseq} 1 INVITE\r\n` });
    expect(core.receiveRequest(prack)).toEqual({ kind: 'in-dialog', dialog });
    expect(pending.reliableProvisional).toBeUndefined();
    vi.advanceTimersByTime(10_000);
    expect(resend).toHaveBeenCalledTimes(1);
  });

  it('rejects the INVITE with 504 when no PRACK comes in 64*T1', () => {
    const { core, terminated } = makeCore();
    const { invite, dialog } = reliable183(core);
    vi.advanceTimersByTime(128 * 500);
    expect(invite.sent.map((r) => r.status)).toEqual([504]);
    expect(terminated).toEqual([dialog]);
  });

  it('stops only the reliable provisionals of the dialog that ends', () => {
    const { core } = makeCore();
    const ending = reliable183(core);
    const other = reliable183(core);
    core.terminate(ending.dialog);
    expect(ending.pending.reliableProvisional?.state ?? 'stopped').toBe('stopped');
    expect(other.pending.reliableProvisional?.state).not.toBe('stopped');
    vi.advanceTimersByTime(500);
    expect(ending.resend).not.toHaveBeenCalled();
    expect(other.resend).toHaveBeenCalledTimes(1);
  });

  it('stops the reliable provisional when its dialog ends', () => {
    const { core } = makeCore();
    const { pending, dialog, resend } = reliable183(core);
    const provisional = pending.reliableProvisional!;
    core.terminate(dialog);
    expect(provisional.state).toBe('stopped');
    vi.advanceTimersByTime(64 * 500);
    expect(resend).not.toHaveBeenCalled();
  });

  it('stops the session timer when its dialog ends (RFC 4028)', () => {
    const { core } = makeCore();
    const { dialog } = confirmedUas(core);
    const expire = vi.fn();
    core.ensureSessionTimer(dialog, { refresh: () => {}, expire }).start(90, false);
    core.terminate(dialog);
    expect(core.sessionTimerOf(dialog)?.state).toBe('stopped');
    vi.advanceTimersByTime(90_000);
    expect(expire).not.toHaveBeenCalled();
  });
});

describe('UserAgentCore: UAC dialogs (RFC 3261 §12.1.2, §13.2.2)', () => {
  function sentInvite(core: UserAgentCore<FakeTxn, FakeTxn, string, string>) {
    const invite = request('INVITE', { fromTag: 'me1' });
    return { invite, outgoing: core.sent(invite, 'app') };
  }

  it('makes one early dialog per To tag of forked 1xx responses and confirms the one that answers', () => {
    const { core, terminated } = makeCore();
    const { invite, outgoing } = sentInvite(core);
    const a = core.receiveResponse(outgoing, respond(invite.request, 180, 'forkA'), uac)!;
    const b = core.receiveResponse(outgoing, respond(invite.request, 180, 'forkB'), uac)!;
    expect(a).not.toBe(b);
    expect([a.state, b.state, a.role]).toEqual(['early', 'early', 'uac']);
    expect(core.receiveResponse(outgoing, respond(invite.request, 183, 'forkA'), uac)).toBe(a);
    expect(core.dialogs.size).toBe(2);
    expect(outgoing.state).toBe('proceeding');
    expect(core.receiveResponse(outgoing, respond(invite.request, 200, 'forkB'), uac)).toBe(b);
    expect(b.state).toBe('confirmed');
    expect(outgoing.state).toBe('completed');
    expect(core.clientRequest(outgoing.id)).toBeUndefined();
    expect(terminated).toEqual([]);
  });

  it('after the 2xx keeps only the dialog-forming part, from which a later fork still makes its dialog', () => {
    const { core } = makeCore();
    const invite = request('INVITE', {
      fromTag: 'me1',
      cseq: 7,
      extra: 'Subject: a header no dialog needs\r\nContent-Type: application/sdp\r\n',
    });
    invite.request.setBody('v=0\r\n', 'application/sdp');
    const outgoing = core.sent(invite, 'app');
    const first = core.receiveResponse(outgoing, respond(invite.request, 200, 'forkA'), uac)!;
    // RFC 6026 §7.2: the transaction and the INVITE as sent are let go; what a dialog takes stays.
    expect(() => outgoing.txn).toThrow(/let go/);
    const kept = outgoing.request;
    expect(kept).not.toBe(invite.request);
    expect([kept.method, kept.uri.toString(), kept.callId, kept.fromTag]).toEqual([
      'INVITE',
      'sip:bob@192.0.2.4',
      'core-1',
      'me1',
    ]);
    expect([kept.cseq.seq, kept.getHeader('Contact'), kept.body.toString()]).toEqual([
      7,
      '<sip:alice@192.0.2.1>',
      'v=0\r\n',
    ]);
    expect(kept.getHeader('Subject')).toBeUndefined();
    // A 2xx from another fork (§13.2.2.4) makes a dialog of its own, as from the full request.
    const second = core.receiveResponse(outgoing, respond(invite.request, 200, 'forkB'), uac)!;
    expect(second).not.toBe(first);
    expect([second.state, second.id.localTag, second.id.remoteTag]).toEqual(['confirmed', 'me1', 'forkB']);
    expect(second.localUri.toString()).toBe(first.localUri.toString());
    expect(second.localSeq).toBe(first.localSeq);
    expect(second.localContact).toBe(first.localContact);
    // A retransmitted 2xx finds its dialog again.
    expect(core.receiveResponse(outgoing, respond(invite.request, 200, 'forkA'), uac)).toBe(first);
  });

  it('keeps one dialog per request when asked, retagged by a later fork', () => {
    const { core } = makeCore({ forks: 'per-request' });
    const { invite, outgoing } = sentInvite(core);
    const early = core.receiveResponse(outgoing, respond(invite.request, 180, 'forkA'), uac)!;
    const confirmed = core.receiveResponse(outgoing, respond(invite.request, 200, 'forkB'), uac)!;
    expect(confirmed).toBe(early);
    expect(confirmed.id.remoteTag).toBe('forkB');
    expect(confirmed.state).toBe('confirmed');
    expect(core.dialogByUacTag('core-1', 'me1')).toBe(confirmed);
    expect(core.dialogs.size).toBe(1);
  });

  it('ends the early dialogs of an INVITE that fails', () => {
    const { core, terminated } = makeCore();
    const { invite, outgoing } = sentInvite(core);
    const a = core.receiveResponse(outgoing, respond(invite.request, 180, 'forkA'), uac)!;
    expect(core.receiveResponse(outgoing, respond(invite.request, 486, 'forkA'), uac)).toBeUndefined();
    expect(a.state).toBe('terminated');
    expect(terminated).toEqual([a]);
    expect(core.dialogs.size).toBe(0);
  });

  it('makes no dialog from a 100 or a response without To tag', () => {
    const { core } = makeCore();
    const { invite, outgoing } = sentInvite(core);
    const trying = createResponse(invite.request, 100);
    expect(core.receiveResponse(outgoing, trying, uac)).toBeUndefined();
    expect(core.dialogs.size).toBe(0);
  });
});
