import type { Dialog } from '../dialogs/dialog.ts';
import type { SipRequest } from '../messages/message.ts';
import { ReliableProvisional } from '../session/reliable-provisional.ts';

/** What the core needs of a server transaction: the request it was created for. */
export interface CoreServerTransaction {
  readonly request: SipRequest;
}

/**
 * A received request the transaction user has not finally answered yet (RFC 3261 §8.2, §12.2.2), seen by the
 * UA core. States: proceeding → answered (the TU sent a final response) or cancelled (a CANCEL matched it
 * first, §9.2) or abandoned (the transaction ended without a final response from the TU). While it is
 * proceeding it hosts the reliable provisional (RFC 3262) of its latest 1xx.
 */
export type ServerRequestState = 'proceeding' | 'answered' | 'cancelled' | 'abandoned';

export class ServerRequest<S extends CoreServerTransaction, O, T> {
  state: ServerRequestState = 'proceeding';
  /** The To tag our responses carry: the dialog's local tag in a dialog, a fresh one otherwise (§8.2.6.2). */
  localTag: string;
  /** The dialog the request was received in, or the one our 1xx/2xx created (§12.1.1). */
  dialog: Dialog<T> | undefined;
  /**
   * The request, kept here: its transaction lets go of it once it only waits for retransmissions (a
   * completed non-INVITE, an acknowledged INVITE), while the transaction user may still read it.
   */
  readonly request: SipRequest;
  private reliable: ReliableProvisional | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    /** The name the transaction user knows the request by (e.g. an app-facing transaction id). */
    readonly id: string,
    readonly txn: S,
    /** Who answers it (an app, a session object). */
    readonly owner: O,
    localTag: string,
    dialog: Dialog<T> | undefined,
  ) {
    this.localTag = localTag;
    this.dialog = dialog;
    this.request = txn.request;
  }

  /** Out of dialog when it arrived (no To tag): a dialog its answer creates is its own. */
  get initial(): boolean {
    return this.request.toTag === undefined;
  }

  get pending(): boolean {
    return this.state === 'proceeding';
  }

  /** The TU has this long to answer; `expired` runs once when it has not (the core rejects the request). */
  armDeadline(ms: number, expired: () => void): void {
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      if (this.pending) expired();
    }, ms);
    this.deadline.unref();
  }

  /**
   * A reliable 1xx was sent (RFC 3262 §3): it is retransmitted until PRACKed. A newer reliable provisional
   * replaces the older one.
   */
  sendReliably(rseq: number, t1Ms: number, retransmit: () => void, timedOut: () => void): void {
    this.reliable?.stop();
    const provisional = new ReliableProvisional(rseq, t1Ms, {
      retransmit: () => {
        if (this.pending) retransmit();
        else provisional.stop();
      },
      timedOut: () => {
        if (this.reliable === provisional) this.reliable = undefined;
        if (this.pending) timedOut();
      },
    });
    this.reliable = provisional;
  }

  /** RFC 3262 §7.2 (UAS): a PRACK whose RAck names our RSeq stops the retransmissions. */
  prack(rack: { rseq: number }): boolean {
    if (!this.reliable?.acknowledge(rack)) return false;
    this.reliable = undefined;
    return true;
  }

  /** The reliable provisional being retransmitted, if any. */
  get reliableProvisional(): ReliableProvisional | undefined {
    return this.reliable;
  }

  /** Stops the reliable provisional (final response sent, dialog ended, engine shutdown). */
  stopReliable(): void {
    this.reliable?.stop();
    this.reliable = undefined;
  }

  /** proceeding → answered | cancelled | abandoned: every timer stops. Returns false when already ended. */
  end(state: Exclude<ServerRequestState, 'proceeding'>): boolean {
    if (!this.pending) return false;
    this.state = state;
    this.stopReliable();
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
    return true;
  }
}
