import type { Dialog } from '../dialogs/dialog.ts';

/**
 * A 2xx to an INVITE we sent as UAS waits for its ACK (RFC 3261 §13.3.1.4; the transaction layer retransmits
 * the 2xx, RFC 6026 Accepted). States: waiting → acknowledged (the first ACK arrived; it goes to the dialog's
 * owner, later ones are retransmissions) or timed-out (no ACK in 64*T1: the TU ends the dialog with BYE) or
 * dropped (the dialog ended first).
 */
export type AckWaitState = 'waiting' | 'acknowledged' | 'timed-out' | 'dropped';

export class AckWait<T> {
  state: AckWaitState = 'waiting';

  constructor(readonly dialog: Dialog<T>) {}

  /** waiting → acknowledged | timed-out | dropped; false when it was not waiting any more. */
  settle(state: Exclude<AckWaitState, 'waiting'>): boolean {
    if (this.state !== 'waiting') return false;
    this.state = state;
    return true;
  }
}

/** The 2xx responses waiting for their ACK, by the INVITE's server transaction. */
export class AckWaits<S, T> {
  private readonly waits = new Map<S, AckWait<T>>();

  wait(invite: S, dialog: Dialog<T>): void {
    this.waits.set(invite, new AckWait(dialog));
  }

  /** An ACK in this dialog arrived: true for the first one, false for a retransmission. */
  acknowledge(dialog: Dialog<T>): boolean {
    return this.settle(dialog, 'acknowledged');
  }

  /** 64*T1 passed without ACK: the dialog to end, if it was still waiting. */
  timeout(invite: S): Dialog<T> | undefined {
    const wait = this.waits.get(invite);
    this.waits.delete(invite);
    return wait?.settle('timed-out') ? wait.dialog : undefined;
  }

  /** The dialog ends first: stop waiting; true when it was waiting. */
  drop(dialog: Dialog<T>): boolean {
    return this.settle(dialog, 'dropped');
  }

  clear(): void {
    this.waits.clear();
  }

  private settle(dialog: Dialog<T>, state: 'acknowledged' | 'dropped'): boolean {
    for (const [invite, wait] of this.waits) {
      if (wait.dialog !== dialog) continue;
      this.waits.delete(invite);
      if (wait.settle(state)) return true;
    }
    return false;
  }
}
