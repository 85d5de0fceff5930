import { generateTag, type SipRequest } from '@switchboard/sip';
import type { SipTransport } from '../config.ts';
import { completeResponse } from './app-messages.ts';
import type { BridgeCore } from './bridge-core.ts';
import type { IncomingTransaction } from './sip-stack.ts';

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
}

/** Takes a request of the methods it was registered for; it must answer every one (a throw answers 500). */
export type LocalHandler = (request: LocalRequest) => void;

/**
 * Handlers by method, which take new out-of-dialog requests before any connected app. Only for methods
 * that create no dialog and need none of the engine's app state (REGISTER): the answer is built and sent
 * here, through the request's server transaction, like the answer of an app.
 *
 * The requests that arrive in one turn of the event loop are handed over together at its end, as the
 * in-process link and a socket read deliver them: every datagram of the turn is read before the first
 * answer goes out, and the answers leave together. Handing each over as it is read cost 15-25 % more CPU
 * per registration (docs/performance.md), most of it in the sends.
 */
export class LocalHandlers {
  private readonly byMethod = new Map<string, LocalHandler>();
  private waiting: LocalAnswer[] = [];
  private readonly handOverWaiting = (): void => {
    const batch = this.waiting;
    this.waiting = [];
    for (const answer of batch) answer.handTo(this.byMethod.get(answer.request.method));
  };

  /** Registers `handler` for `method`; the returned function removes it. */
  add(method: string, handler: LocalHandler): () => void {
    const key = method.toUpperCase();
    if (key !== 'REGISTER') throw new Error(`${key} cannot be answered locally: only REGISTER`);
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
  handOver(core: BridgeCore, txn: IncomingTransaction): void {
    if (this.waiting.push(new LocalAnswer(core, txn)) === 1) setImmediate(this.handOverWaiting);
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
  ) {
    const flow = txn.flow;
    this.request = txn.request;
    this.source = { address: flow.remoteAddress, port: flow.remotePort, transport: flow.transport };
    this.receivedOn = { host: flow.localAddress, port: flow.localPort };
  }

  /**
   * Runs the handler; one that throws gets the request a 500. Removed meanwhile (sip-core closing), the
   * request gets the 503 of a method no app takes.
   */
  handTo(handler: LocalHandler | undefined): void {
    if (!handler) {
      this.respond(503, undefined, []);
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
    if (status >= 200) this.answered = true;
    const { core, txn } = this;
    const response = completeResponse(
      status,
      reason ?? '',
      { headers, body: '' },
      this.request,
      this.localTag,
      core.listenerOf(txn.flow),
    );
    txn.respond(response).catch((err: unknown) => {
      core.log.warn({ err, status, method: this.request.method }, 'local answer not sent');
    });
  }
}
