import { generateTag, type SipRequest } from '@switchboard/sip';
import type { SipTransport } from '../config.ts';
import { completeResponse } from './app-messages.ts';
import type { BridgeCore } from './bridge-core.ts';
import type { IncomingTransaction, Sent } from './sip-stack.ts';

/**
 * A new request handed to a handler in the engine's own process (the all-in-one launcher's sip-core) as
 * the engine parsed it: no drachtio message, no second parse, no app transaction to keep.
 */
export interface LocalRequest {
  /** The parsed request (received/rport already on its top Via). Read it; do not change it. */
  readonly request: SipRequest;
  /** Where the packet came from and over what, as an app's `source_address`, `source_port`, `protocol`. */
  readonly source: { address: string; port: number; transport: SipTransport };
  /** The engine socket that received it (an app's `receivedOn`). */
  readonly receivedOn: { host: string; port: number };
  /**
   * Answers it as an app's response is answered (app-messages.ts `buildResponse`: Via, From, Call-ID and
   * CSeq copied, To with our tag, Contact completed, the other headers as given, the reply mode header
   * honoured). Only the first final answer goes out.
   */
  respond(status: number, reason: string | undefined, headers: Array<[string, string]>): void;
  /**
   * Gives the request to the connected apps, as if no handler had taken it: what the handler does not
   * answer itself (an INVITE that passed its checks becomes a call in an app). Nothing happens once it
   * was answered (a CANCEL may have answered a waiting INVITE with 487).
   */
  passOn(): void;
}

/**
 * Takes a request of the methods it was registered for; it must answer or pass on every one (a throw
 * answers 500).
 */
export type LocalHandler = (request: LocalRequest) => void;

/** What a handler may take: REGISTER, and INVITE for the answers that make no dialog (a challenge). */
export type LocalMethod = 'REGISTER' | 'INVITE';
const LOCAL_METHODS: ReadonlySet<string> = new Set<LocalMethod>(['REGISTER', 'INVITE']);

/** How a passed-on request reaches the apps (network-side.ts), and how a rejected INVITE is reported. */
export interface LocalDelivery {
  toApps(core: BridgeCore, txn: IncomingTransaction): void;
  /** An INVITE answered here with a failure: the cdr events an app's rejection would give. */
  rejectedInvite(core: BridgeCore, txn: IncomingTransaction, sent: Sent): void;
}

/**
 * Handlers by method, which take new out-of-dialog requests before any connected app. Only answers that
 * create no dialog and need none of the engine's app state are given here (a REGISTER's, an INVITE's
 * challenge or refusal): the answer is built and sent through the request's server transaction, like the
 * answer of an app. What a handler does not answer it passes on to the apps.
 *
 * The requests that arrive in one turn of the event loop are handed over together at its end, as the
 * in-process link and a socket read deliver them: every datagram of the turn is read before the first
 * answer goes out, and the answers leave together. Handing each over as it is read cost 15-25 % more CPU
 * per registration (docs/performance.md), most of it in the sends.
 */
export class LocalHandlers {
  private readonly byMethod = new Map<string, LocalHandler>();
  private waiting: LocalAnswer[] = [];
  /** INVITEs handed over and not yet answered or passed on, so that a CANCEL finds them (§9.2). */
  private readonly openInvites = new Map<IncomingTransaction, LocalAnswer>();
  private readonly handOverWaiting = (): void => {
    const batch = this.waiting;
    this.waiting = [];
    for (const answer of batch) answer.handTo(this.byMethod.get(answer.request.method));
  };

  /** Registers `handler` for `method`; the returned function removes it. */
  add(method: string, handler: LocalHandler): () => void {
    const key = method.toUpperCase();
    if (!LOCAL_METHODS.has(key))
      throw new Error(`${key} cannot be answered locally: only REGISTER and INVITE`);
    if (this.byMethod.has(key)) throw new Error(`${key} already has a local handler`);
    this.byMethod.set(key, handler);
    return () => {
      if (this.byMethod.get(key) === handler) this.byMethod.delete(key);
    };
  }

  /** Whether a handler takes new requests of `method`. */
  takes(method: string): boolean {
    return this.byMethod.size > 0 && this.byMethod.has(method);
  }

  /** Hands the request to its method's handler at the end of this turn. */
  handOver(core: BridgeCore, txn: IncomingTransaction, delivery: LocalDelivery): void {
    const answer = new LocalAnswer(core, txn, delivery, this.openInvites);
    if (txn.request.method === 'INVITE') this.openInvites.set(txn, answer);
    if (this.waiting.push(answer) === 1) setImmediate(this.handOverWaiting);
  }

  /**
   * RFC 3261 §9.2: a CANCEL for an INVITE still with its handler (the stack answered the CANCEL 200). The
   * INVITE gets 487 and is not passed on; false when no handler holds it.
   */
  cancel(invite: IncomingTransaction): boolean {
    const answer = this.openInvites.get(invite);
    if (!answer) return false;
    answer.respond(487, undefined, []);
    return true;
  }
}

/** One request's answer: a class rather than closures, made for every REGISTER. */
class LocalAnswer implements LocalRequest {
  readonly request: SipRequest;
  readonly source: LocalRequest['source'];
  readonly receivedOn: LocalRequest['receivedOn'];
  private answered = false;
  /** RFC 3261 §8.2.6.2: one To tag for every response to the request. */
  private readonly localTag = generateTag();

  constructor(
    private readonly core: BridgeCore,
    private readonly txn: IncomingTransaction,
    private readonly delivery: LocalDelivery,
    private readonly openInvites: Map<IncomingTransaction, LocalAnswer>,
  ) {
    const flow = txn.flow;
    this.request = txn.request;
    this.source = { address: flow.remoteAddress, port: flow.remotePort, transport: flow.transport };
    this.receivedOn = { host: flow.localAddress, port: flow.localPort };
  }

  /**
   * Runs the handler; one that throws gets the request a 500. Removed meanwhile (sip-core closing), the
   * request goes where it would have gone without it (an app, or the 503 of a method no app takes).
   */
  handTo(handler: LocalHandler | undefined): void {
    if (!handler) {
      this.passOn();
      return;
    }
    try {
      handler(this);
    } catch (err) {
      this.core.log.error({ err, method: this.request.method }, 'local request handler failed');
      this.respond(500, undefined, []);
    }
  }

  respond(status: number, reason: string | undefined, headers: Array<[string, string]>): void {
    if (this.answered) return;
    const invite = this.request.method === 'INVITE';
    // A 1xx or 2xx to an INVITE makes a dialog (§12.1.1), which only an app's call may own.
    if (invite && status < 300) {
      this.core.log.error({ status }, 'a local handler may answer INVITE only with a failure: 500 sent');
      status = 500;
      reason = undefined;
      headers = [];
    }
    if (status >= 200) this.settle();
    const { core, txn } = this;
    const response = completeResponse(
      status,
      reason ?? '',
      { headers, body: '' },
      this.request,
      this.localTag,
      core.listenerOf(txn.flow),
    );
    txn.respond(response).then(
      (sent) => {
        if (invite) this.delivery.rejectedInvite(core, txn, sent);
      },
      (err: unknown) => {
        core.log.warn({ err, status, method: this.request.method }, 'local answer not sent');
      },
    );
  }

  passOn(): void {
    if (this.answered) return;
    this.settle();
    this.delivery.toApps(this.core, this.txn);
  }

  /** Answered or passed on: only once, and a CANCEL no longer finds it here. */
  private settle(): void {
    this.answered = true;
    if (this.request.method === 'INVITE') this.openInvites.delete(this.txn);
  }
}
