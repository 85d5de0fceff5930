import type { Dialog } from '../dialogs/dialog.ts';
import type { SipResponse } from '../messages/message.ts';
import type { CoreServerTransaction, ServerRequest } from './server-request.ts';

export interface UserAgentCoreOptions<S extends CoreServerTransaction, O, T> {
  /** Sends a response through a server transaction (the core answers 481, 500, 487, 408 and 504 itself). */
  send(txn: S, response: SipResponse): unknown;
  /** RFC 3261 T1 in ms, the first retransmission interval of reliable provisionals (RFC 3262 §3). */
  t1Ms?: number;
  /** How long the TU has to answer a request before the core answers 408 (default: no limit). */
  answerTimeoutMs?: number;
  /**
   * 'per-tag' (RFC 3261 §12.1.2, §13.2.2.4): each To tag of a forked response makes its own dialog.
   * 'per-request': one dialog per request, taken over by a later fork's tag (as drachtio keeps it).
   */
  forks?: 'per-tag' | 'per-request';
  /** A request with a To tag for no known dialog: true when the TU takes it (a proxy), else the core sends 481. */
  unknownDialog?(txn: S): boolean;
  /** Ran once when a dialog ends, after the core stopped what it hosts on it. */
  dialogTerminated?(dialog: Dialog<T>): void;
  /** The TU did not answer in time (answerTimeoutMs): the core is about to answer 408. */
  answerTimedOut?(request: ServerRequest<S, O, T>): void;
}

/** Where the core sent a received request (§8.2 out of dialog, §12.2.2 inside one). */
export type RequestRoute<T> =
  | { kind: 'out-of-dialog' }
  | { kind: 'in-dialog'; dialog: Dialog<T> }
  /** The core answered it (481, 500), or the unknownDialog hook took it. */
  | { kind: 'handled' };

/** What a received ACK for a 2xx is (§13.3.1.4). */
export type AckRoute<T> =
  | { kind: 'first'; dialog: Dialog<T> }
  | { kind: 'retransmission'; dialog: Dialog<T> }
  | { kind: 'no-dialog' };
