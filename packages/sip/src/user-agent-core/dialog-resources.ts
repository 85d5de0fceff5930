import { RSeqCounter } from '../session/reliable-provisional.ts';
import { SessionTimer, type SessionTimerEvents } from '../session/session-timer.ts';

/**
 * What runs on one dialog besides its state (RFC 3261 §12): the RSeq numbering of our reliable provisionals
 * (RFC 3262 §3) and the RFC 4028 session timer. The UA core owns it and stops it when the dialog ends.
 */
export class DialogResources {
  private rseq: RSeqCounter | undefined;
  private timer: SessionTimer | undefined;

  /** The next RSeq for a reliable provisional in this dialog (the counter starts at random, §3). */
  nextRSeq(): number {
    this.rseq ??= new RSeqCounter();
    return this.rseq.next();
  }

  get sessionTimer(): SessionTimer | undefined {
    return this.timer;
  }

  /** The dialog's session timer, made on first use with the TU's refresh and expiry actions. */
  ensureSessionTimer(events: SessionTimerEvents): SessionTimer {
    this.timer ??= new SessionTimer(events);
    return this.timer;
  }

  stop(): void {
    this.timer?.stop();
  }
}

/** The resources of each dialog, made on first use and forgotten with the dialog. */
export class DialogResourceTable<D extends object> {
  private readonly resources = new WeakMap<D, DialogResources>();

  of(dialog: D): DialogResources {
    let resources = this.resources.get(dialog);
    if (!resources) {
      resources = new DialogResources();
      this.resources.set(dialog, resources);
    }
    return resources;
  }

  /** Stops what runs on the dialog (it ended). */
  stop(dialog: D): void {
    this.resources.get(dialog)?.stop();
  }

  sessionTimerOf(dialog: D): SessionTimer | undefined {
    return this.resources.get(dialog)?.sessionTimer;
  }
}
