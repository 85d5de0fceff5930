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
