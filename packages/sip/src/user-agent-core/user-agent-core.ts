import { randomUUID } from 'node:crypto';
import { SetIndex } from '../collections/set-index.ts';
import { Dialog } from '../dialogs/dialog.ts';
import { createResponse, generateTag } from '../messages/builders.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import { AckWaits } from './ack-wait.ts';
import { ClientRequest, type CoreClientTransaction, type DialogCreation } from './client-request.ts';
import { DialogOwner } from './dialog-owner.ts';
import { type CoreServerTransaction, ServerRequest } from './server-request.ts';
import type { AckRoute, RequestRoute, UserAgentCoreOptions } from './user-agent-core-types.ts';

/**
 * The user-agent core (RFC 3261 §8, §12, §13) over a transaction layer: it owns the dialogs, the requests
 * received and sent that have no final response yet, and the 2xx responses waiting for their ACK. It routes
 * each received request to its dialog or to the out-of-dialog handler, matches CANCEL to its INVITE, makes
 * dialogs from the responses sent and received, and ends them, stopping what runs on them.
 * S, C: the server and client transactions of the layer below; O: who owns a request (the TU's app or session);
 * T: the TU's data per dialog.
 */
export class UserAgentCore<
  S extends CoreServerTransaction,
  C extends CoreClientTransaction,
  O,
  T,
> extends DialogOwner<T> {
  private readonly servers = new Map<string, ServerRequest<S, O, T>>();
  private readonly serversByTxn = new Map<S, ServerRequest<S, O, T>>();
  /** The pending requests of each dialog: a dialog that ends or a PRACK reaches them without a scan. */
  private readonly serversOf = new SetIndex<Dialog<T>, ServerRequest<S, O, T>>();
  private readonly clients = new Map<string, ClientRequest<C, O, T>>();
  private readonly ackWaits = new AckWaits<S, T>();
  private readonly t1: number;

  constructor(private readonly options: UserAgentCoreOptions<S, O, T>) {
    super(options.dialogTerminated);
    this.t1 = options.t1Ms ?? 500;
  }

  // ------------------------------------------------------------------------------ received requests (UAS)

  /**
   * §12.2.2: a request with a To tag belongs to a dialog. None matches: 481 (unless the TU takes it). A CSeq
   * lower than the dialog's last one: 500. A PRACK also stops the reliable provisional it acknowledges
   * (RFC 3262 §7.2), a BYE ends an INVITE dialog (§15.1.2). Without To tag: out of dialog (§8.2).
   */
  receiveRequest(txn: S): RequestRoute<T> {
    const request = txn.request;
    const match = this.dialogs.matchRequest(request);
    if (match.kind === 'out-of-dialog') return match;
    if (match.kind === 'unknown-dialog') {
      if (!this.options.unknownDialog?.(txn)) this.reply(txn, createResponse(request, 481));
      return { kind: 'handled' };
    }
    const dialog = match.dialog;
    const check = dialog.receiveRequest(request);
    if (!check.ok) {
      this.reply(txn, createResponse(request, check.status, { reason: check.reason }));
      return { kind: 'handled' };
    }
    if (request.method === 'PRACK' && request.rack) this.prack(dialog, request.rack);
    return { kind: 'in-dialog', dialog };
  }

  /** Keeps a received request until the TU's final answer; `id` is the name the TU knows it by. */
  track(txn: S, owner: O, dialog?: Dialog<T>, id: string = randomUUID()): ServerRequest<S, O, T> {
    const request = new ServerRequest<S, O, T>(id, txn, owner, dialog?.id.localTag ?? generateTag(), dialog);
    this.servers.set(id, request);
    this.serversByTxn.set(txn, request);
    if (dialog) this.joinDialog(request, dialog);
    const timeout = this.options.answerTimeoutMs;
    if (timeout !== undefined)
      request.armDeadline(timeout, () => {
        this.options.answerTimedOut?.(request);
        this.reject(request, 408, 'Request Timeout');
      });
    // A BYE ends the INVITE usage of its dialog (§15.1.2); the TU still answers the BYE.
    if (dialog && txn.request.method === 'BYE' && dialog.usage === 'invite') this.terminate(dialog);
    return request;
  }

  serverRequest(id: string): ServerRequest<S, O, T> | undefined {
    return this.servers.get(id);
  }

  serverRequestOf(txn: S): ServerRequest<S, O, T> | undefined {
    return this.serversByTxn.get(txn);
  }

  serverRequests(): ServerRequest<S, O, T>[] {
    return [...this.servers.values()];
  }

  /**
   * §9.2: a CANCEL matched this INVITE's server transaction (the layer below answered the CANCEL 200, or 481
   * when nothing matched). Still unanswered: the INVITE gets 487 and its early dialog ends; returns the
   * request so the TU hears of it. Already answered: nothing happens.
   */
  receiveCancel(invite: S): ServerRequest<S, O, T> | undefined {
    const request = this.serversByTxn.get(invite);
    if (!request?.pending) return undefined;
    this.finish(request, 'cancelled');
    if (request.initial && request.dialog) this.terminate(request.dialog);
    this.reply(invite, createResponse(request.request, 487, { toTag: request.localTag }));
    return request;
  }

  /**
   * The TU is about to send this response: a 101-299 with a To tag to a dialog-creating request makes the UAS
   * dialog (§12.1.1) or, for a 2xx, confirms the early one; a reliable 1xx (Require: 100rel) is numbered with
   * the dialog's next RSeq (RFC 3262 §3). Returns the request's dialog.
   */
  answering(
    request: ServerRequest<S, O, T>,
    response: SipResponse,
    create: DialogCreation<T> | undefined,
  ): Dialog<T> | undefined {
    const status = response.status;
    if (create && status > 100 && status < 300 && response.toTag !== undefined) {
      if (!request.dialog || request.dialog.state === 'terminated') {
        const options = { ...create.options(), usage: create.usage };
        this.joinDialog(request, this.dialogs.add(Dialog.fromUas(request.request, response, options)));
      } else if (status >= 200) request.dialog.confirm();
    }
    if (isReliable(request.request, response) && request.dialog) {
      response.setHeader('RSeq', this.resourcesOf(request.dialog).nextRSeq());
    }
    return request.dialog;
  }

  /**
   * The TU's response went out. A reliable 1xx is retransmitted until PRACKed, 504 without PRACK (RFC 3262
   * §3). A final response ends the request: a 2xx to INVITE waits for its ACK (§13.3.1.4); a non-2xx final
   * to an initial INVITE ends the early dialog its 1xx made (§12.1: only 2xx and 1xx make dialogs).
   */
  answered(request: ServerRequest<S, O, T>, response: SipResponse, resend: () => void): void {
    const status = response.status;
    if (status < 200) {
      const rseq = response.rseq;
      if (isReliable(request.request, response) && rseq !== undefined)
        request.sendReliably(rseq, this.t1, resend, () =>
          this.reject(request, 504, 'Reliable Provisional Not Acknowledged'),
        );
      return;
    }
    this.finish(request, 'answered');
    const dialog = request.dialog;
    if (request.request.method !== 'INVITE' || !dialog) return;
    if (status < 300) this.ackWaits.wait(request.txn, dialog);
    else if (request.initial) this.terminate(dialog);
  }

  /** answering, sending and answered in one step, for a TU with nothing to do in between. */
  respond(
    request: ServerRequest<S, O, T>,
    response: SipResponse,
    create?: DialogCreation<T>,
  ): Dialog<T> | undefined {
    const dialog = this.answering(request, response, create);
    this.reply(request.txn, response);
    this.answered(request, response, () => this.reply(request.txn, response));
    return dialog;
  }

  /** The core answers a pending request itself (timeout, no PRACK, owner gone): a failure ends its dialog. */
  reject(request: ServerRequest<S, O, T>, status: number, reason: string): void {
    if (!this.finish(request, 'answered')) return;
    if (request.initial && request.dialog) this.terminate(request.dialog);
    this.reply(request.txn, createResponse(request.request, status, { reason, toTag: request.localTag }));
  }

  /**
   * The server transaction ended without a final answer from the TU, its handling failed, or the TU handed
   * it to a proxy (§16): the core forgets the request.
   */
  abandon(txn: S): void {
    const request = this.serversByTxn.get(txn);
    if (request) this.finish(request, 'abandoned');
  }

  // ------------------------------------------------------------------------------ ACK for 2xx (§13.3.1.4)

  /** The first ACK for a 2xx goes to the dialog's owner; retransmissions stop here. */
  receiveAck(ack: SipRequest): AckRoute<T> {
    const dialog = this.dialogs.matchIncoming(ack.callId, ack.fromTag, ack.toTag);
    if (!dialog) return { kind: 'no-dialog' };
    return { kind: this.ackWaits.acknowledge(dialog) ? 'first' : 'retransmission', dialog };
  }

  /** No ACK for the 2xx of this INVITE within 64*T1: returns the dialog the TU must end with BYE. */
  ackTimeout(invite: S): Dialog<T> | undefined {
    const dialog = this.ackWaits.timeout(invite);
    return dialog && dialog.state !== 'terminated' ? dialog : undefined;
  }

  // ------------------------------------------------------------------------------ sent requests (UAC)

  /** Keeps a request the TU sent until its final response; inside `dialog` when given. */
  sent(txn: C, owner: O, dialog?: Dialog<T>, id: string = randomUUID()): ClientRequest<C, O, T> {
    const request = new ClientRequest<C, O, T>(id, txn, owner, dialog);
    this.clients.set(id, request);
    return request;
  }

  clientRequest(id: string): ClientRequest<C, O, T> | undefined {
    return this.clients.get(id);
  }

  clientRequests(): ClientRequest<C, O, T>[] {
    return [...this.clients.values()];
  }

  /** Stops following a sent request (its owner went away). */
  forgetClient(request: ClientRequest<C, O, T>): void {
    this.clients.delete(request.id);
  }

  /**
   * A response to a request we sent. Out of dialog, a 101-299 with a To tag to a dialog-creating request makes
   * the UAC dialog (§12.1.2): early for 1xx, confirmed for 2xx, one per To tag or one per request (`forks`).
   * A 2xx confirms the dialog and resets its route set and target (§13.2.2.4, §12.2.1.2); a non-2xx final to
   * an INVITE ends its early dialogs (§13.2.2.3); after a 2xx to an INVITE the request keeps only what a
   * fork's dialog is made from (RFC 6026 §7.2). Returns the dialog the response belongs to.
   */
  receiveResponse(
    request: ClientRequest<C, O, T>,
    response: SipResponse,
    create: DialogCreation<T> | undefined,
  ): Dialog<T> | undefined {
    const status = response.status;
    request.receive(status);
    if (status >= 200) this.clients.delete(request.id);
    let dialog =
      request.dialog ?? request.dialogFor(response, this.dialogs, this.options.forks ?? 'per-tag', create);
    if (!request.dialog && status >= 300 && request.method === 'INVITE') {
      for (const early of request.dialogs.values()) if (early.state === 'early') this.terminate(early);
      dialog = undefined;
    }
    if (status >= 200 && status < 300) {
      dialog?.receiveResponse(response);
      if (request.method === 'INVITE') request.keepOnlyDialogForming();
    }
    return dialog;
  }

  protected ending(dialog: Dialog<T>): void {
    for (const request of this.serversOf.get(dialog) ?? []) request.stopReliable();
    this.ackWaits.drop(dialog);
  }

  /** Ends everything (shutdown): pending requests stop their timers, dialogs end. */
  close(): void {
    for (const request of [...this.servers.values()]) this.finish(request, 'abandoned');
    for (const dialog of this.dialogs.all()) this.terminate(dialog);
    this.clients.clear();
    this.ackWaits.clear();
  }

  /** Stops waiting for the ACK of the dialog's 2xx (the TU ends the dialog first); true when it waited. */
  forgetAckWait(dialog: Dialog<T>): boolean {
    return this.ackWaits.drop(dialog);
  }

  private prack(dialog: Dialog<T>, rack: { rseq: number }): void {
    for (const request of this.serversOf.get(dialog) ?? []) request.prack(rack);
  }

  /** The request belongs to this dialog from now on (received in it, or its answer made it). */
  private joinDialog(request: ServerRequest<S, O, T>, dialog: Dialog<T>): void {
    this.leaveDialog(request);
    request.dialog = dialog;
    // Only pending requests are indexed: one answered already (a 2xx after its CANCEL) is not reached again.
    if (this.servers.get(request.id) === request) this.serversOf.add(dialog, request);
  }

  private leaveDialog(request: ServerRequest<S, O, T>): void {
    if (request.dialog) this.serversOf.delete(request.dialog, request);
  }

  private finish(request: ServerRequest<S, O, T>, state: 'answered' | 'cancelled' | 'abandoned'): boolean {
    this.servers.delete(request.id);
    this.serversByTxn.delete(request.txn);
    this.leaveDialog(request);
    return request.end(state);
  }

  private reply(txn: S, response: SipResponse): void {
    try {
      const sent = this.options.send(txn, response);
      if (sent instanceof Promise) sent.catch(() => {});
    } catch {
      // The transaction may be gone already; nothing more to answer.
    }
  }
}

/** RFC 3262 §3: a 1xx to INVITE requiring 100rel is sent reliably. */
function isReliable(request: SipRequest, response: SipResponse): boolean {
  const status = response.status;
  return request.method === 'INVITE' && status > 100 && status < 200 && response.require.includes('100rel');
}
