import { EventEmitter } from 'node:events';
import { type TimerName, type TimerSettings, timerDurations } from './timers.ts';

export type TransactionState =
  | 'calling'
  | 'trying'
  | 'proceeding'
  | 'accepted'
  | 'completed'
  | 'confirmed'
  | 'terminated';

export type TransactionKind = 'invite-client' | 'non-invite-client' | 'invite-server' | 'non-invite-server';

/** Why a transaction ended without a final response from the far end (client) or an ACK (server). */
export type TransactionFailure = 'timeout' | 'transport-error';

/** Sends one message for a transaction. Rejections are transport errors (RFC 3261 §17.1.4 / §17.2.4). */
export type TransactionSender<M> = (message: M) => Promise<unknown>;

export interface TransactionEvents {
  stateChanged: [state: TransactionState, previous: TransactionState];
  terminated: [];
}

/**
 * Common machinery of the four RFC 3261 §17 state machines: named timers that die with the transaction,
 * a state with change notifications, and one-shot termination.
 */
export abstract class Transaction<Events extends Record<keyof Events, unknown[]>> extends EventEmitter<
  Events & TransactionEvents
> {
  abstract readonly kind: TransactionKind;
  protected readonly durations: ReturnType<typeof timerDurations>;
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private current: TransactionState;

  constructor(
    /** Transaction key (see TransactionManager): unique within the manager. */
    readonly id: string,
    /** True over TCP/TLS/WS: no retransmission timers, zero wait timers (§17.1.1.2, §17.1.2.2). */
    readonly reliable: boolean,
    protected readonly settings: TimerSettings,
    initial: TransactionState,
  ) {
    super();
    this.durations = timerDurations(settings, reliable);
    this.current = initial;
  }

  get state(): TransactionState {
    return this.current;
  }

  protected setState(next: TransactionState): void {
    const previous = this.current;
    if (previous === next || previous === 'terminated') return;
    this.current = next;
    (this as EventEmitter<TransactionEvents>).emit('stateChanged', next, previous);
    if (next === 'terminated') {
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      (this as EventEmitter<TransactionEvents>).emit('terminated');
    }
  }

  /** Starts (or restarts) a named timer; all timers stop when the transaction terminates. */
  protected startTimer(name: TimerName, ms: number, onFire: () => void): void {
    this.stopTimer(name);
    const handle = setTimeout(() => {
      this.timers.delete(name);
      if (this.current !== 'terminated') onFire();
    }, ms);
    this.timers.set(name, handle);
  }

  protected stopTimer(name: TimerName): void {
    const handle = this.timers.get(name);
    if (handle) clearTimeout(handle);
    this.timers.delete(name);
  }

  /** True while the named timer is pending (tests and diagnostics). */
  hasTimer(name: TimerName): boolean {
    return this.timers.has(name);
  }

  /** Ends the transaction at once (TU abort, manager shutdown). */
  terminate(): void {
    this.setState('terminated');
  }
}
