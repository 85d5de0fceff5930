import type { Dialog } from '../dialogs/dialog.ts';
import type { SipRequest } from '../messages/message.ts';
import type { ClientTransaction, ServerTransaction, TransactionManager } from '../transactions/manager.ts';
import { InviteServerTransaction } from '../transactions/server.ts';
import type { MessageSource } from '../transport/types.ts';
import type { ServerRequest } from './server-request.ts';
import { UserAgentCore } from './user-agent-core.ts';
import type { UserAgentCoreOptions } from './user-agent-core-types.ts';

export type ManagedCore<O, T> = UserAgentCore<ServerTransaction, ClientTransaction, O, T>;

/** What a UA built on a TransactionManager hears from its core. */
export interface ManagedCoreHandlers<O, T> {
  /** A new request outside any dialog (§8.2). */
  outOfDialog(txn: ServerTransaction, source: MessageSource): void;
  /** A request inside a known dialog that passed the §12.2.2 checks. */
  inDialog(txn: ServerTransaction, dialog: Dialog<T>, source: MessageSource): void;
  /** The first ACK for a 2xx we sent (§13.3.1.4). */
  ack?(ack: SipRequest, dialog: Dialog<T>): void;
  /** A CANCEL ended this pending INVITE with 487 (§9.2). */
  cancelled?(request: ServerRequest<ServerTransaction, O, T>): void;
  /** Our 2xx got no ACK in 64*T1 (§13.3.1.4): send BYE. */
  ackTimeout?(dialog: Dialog<T>): void;
}

/**
 * A UserAgentCore wired to a TransactionManager's events: new requests are routed (§8.2, §12.2.2), CANCELs
 * matched to their INVITE (the manager answered the CANCEL, §9.2), ACKs for 2xx and ACK timeouts handed over,
 * and a server transaction that ends unanswered forgotten. Responses go through `acceptInvite` for a 2xx to
 * INVITE (RFC 6026), `respond` otherwise.
 */
export function attachUserAgentCore<O, T>(
  manager: TransactionManager,
  handlers: ManagedCoreHandlers<O, T>,
  options: Omit<UserAgentCoreOptions<ServerTransaction, O, T>, 'send'> = {},
): ManagedCore<O, T> {
  const core: ManagedCore<O, T> = new UserAgentCore({
    t1Ms: manager.timers.t1,
    ...options,
    send: (txn, response) => {
      const invite2xx = txn.request.method === 'INVITE' && response.status >= 200 && response.status < 300;
      if (invite2xx && txn instanceof InviteServerTransaction && txn.state !== 'accepted')
        manager.acceptInvite(txn, response);
      else txn.respond(response);
    },
  });
  manager.on('request', (_request, txn, source) => {
    txn.once('terminated', () => core.abandon(txn));
    const route = core.receiveRequest(txn);
    if (route.kind === 'out-of-dialog') handlers.outOfDialog(txn, source);
    else if (route.kind === 'in-dialog') handlers.inDialog(txn, route.dialog, source);
  });
  manager.on('cancel', (_cancel, invite) => {
    const request = core.receiveCancel(invite);
    if (request) handlers.cancelled?.(request);
  });
  manager.on('ack', (ack) => {
    const route = core.receiveAck(ack);
    if (route.kind === 'first') handlers.ack?.(ack, route.dialog);
  });
  manager.on('ackTimeout', (invite) => {
    const dialog = core.ackTimeout(invite);
    if (dialog) handlers.ackTimeout?.(dialog);
  });
  return core;
}
