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

/**
 * The 2xx responses waiting for their ACK, by the INVITE's server transaction and by dialog: an ACK names
 * its dialog, not the INVITE it acknowledges, and a busy UAS has as many waits as 2xx sent in 64*T1, so
 * finding them must not mean walking all of them.
 */
export class AckWaits<S, T> {
  private readonly waits = new Map<S, AckWait<T>>();
  /** The INVITEs of each dialog still waiting, oldest first (a re-INVITE's 2xx waits in the same dialog). */
  private readonly invitesOf = new Map<Dialog<T>, S[]>();

  wait(invite: S, dialog: Dialog<T>): void {
    this.forget(invite);
    this.waits.set(invite, new AckWait(dialog));
    const invites = this.invitesOf.get(dialog);
    if (invites) invites.push(invite);
    else this.invitesOf.set(dialog, [invite]);
  }

  /** An ACK in this dialog arrived: true for the first one, false for a retransmission. */
  acknowledge(dialog: Dialog<T>): boolean {
    return this.settle(dialog, 'acknowledged');
  }

  /** 64*T1 passed without ACK: the dialog to end, if it was still waiting. */
  timeout(invite: S): Dialog<T> | undefined {
    const wait = this.forget(invite);
    return wait?.settle('timed-out') ? wait.dialog : undefined;
  }

  /** The dialog ends first: stop waiting; true when it was waiting. */
  drop(dialog: Dialog<T>): boolean {
    return this.settle(dialog, 'dropped');
  }

  clear(): void {
    this.waits.clear();
    this.invitesOf.clear();
  }

  /** How many 2xx wait for their ACK. */
  get size(): number {
    return this.waits.size;
  }

  /** Settles the dialog's oldest wait. */
  private settle(dialog: Dialog<T>, state: 'acknowledged' | 'dropped'): boolean {
    const invite = this.invitesOf.get(dialog)?.[0];
    if (invite === undefined) return false;
    return this.forget(invite)?.settle(state) ?? false;
  }

  /** Removes the INVITE's wait from both indexes; the wait it removed. */
  private forget(invite: S): AckWait<T> | undefined {
    const wait = this.waits.get(invite);
    if (wait === undefined) return undefined;
    this.waits.delete(invite);
    const invites = this.invitesOf.get(wait.dialog) ?? [];
    const at = invites.indexOf(invite);
    if (at >= 0) invites.splice(at, 1);
    if (invites.length === 0) this.invitesOf.delete(wait.dialog);
    return wait;
  }
}
