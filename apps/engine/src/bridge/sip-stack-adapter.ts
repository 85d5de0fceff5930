import {
  type ClientTransaction,
  createCancel,
  InviteClientTransaction,
  type InviteServerTransaction,
  type ListenerInfo,
  type MessageSource,
  newVia,
  type ProxyOptions,
  parseUri,
  type ResolvedTarget,
  type SendResult,
  type ServerTransaction,
  type SipRequest,
  type SipResolver,
  type SipResponse,
  SipUri,
  StatefulProxy,
  type TransactionManager,
  type TransportLayer,
  type TransportProtocol,
  type TransportTarget,
} from '@switchboard/sip';
import { takeReplyMode } from './reply-mode.ts';
import type {
  Flow,
  IncomingTransaction,
  OutgoingTransaction,
  SendOptions,
  Sent,
  SipStackPort,
  StackListener,
  StackProxy,
} from './sip-stack.ts';

/**
 * SipStackPort on @switchboard/sip: TransportLayer (listeners, parsing, limits), TransactionManager
 * (RFC 3261 §17 with RFC 6026) and SipResolver (RFC 3263).
 */
export class SipStackAdapter implements SipStackPort {
  /** The wrappers of INVITE server transactions, for their CANCEL and ACK timeout. */
  private readonly incoming = new WeakMap<ServerTransaction, IncomingServerTransaction>();
  readonly proxy: StackProxy;

  constructor(
    private readonly transport: TransportLayer,
    private readonly manager: TransactionManager,
    private readonly resolver: SipResolver,
    /** How the stack's proxy behaves (the engine chooses drachtio-server's ways, proxy-operations.ts). */
    proxyOptions: Omit<ProxyOptions, 'manager' | 'resolver'> = {},
  ) {
    const core = new StatefulProxy({ ...proxyOptions, manager, resolver });
    this.proxy = {
      core,
      serverTransactionOf: (txn) =>
        txn instanceof IncomingServerTransaction ? txn.serverTransaction : undefined,
      flowTo: (target) => flowTo(transport, target),
    };
  }

  get listeners(): StackListener[] {
    return this.transport.getListeners().map(toStackListener);
  }

  onRequest(handler: (txn: IncomingTransaction) => void): void {
    this.manager.on('request', (request, tx, source) => handler(this.wrapIncoming(request, tx, source)));
  }

  onCancel(
    handler: (cancel: SipRequest, raw: string, flow: Flow, invite: IncomingTransaction) => void,
  ): void {
    this.manager.on('cancel', (cancel, invite, source) => {
      const txn = this.incoming.get(invite);
      if (txn) handler(cancel, cancel.toString(), flowOf(source), txn);
    });
  }

  onAck(handler: (ack: SipRequest, raw: string, flow: Flow) => void): void {
    this.manager.on('ack', (ack, source, acknowledged) => {
      // Its 2xx acknowledged, the INVITE can no longer be cancelled nor time out waiting for the ACK: its
      // wrapper (the request and its text) need not stay for the transaction's Timer L.
      if (acknowledged) {
        this.incoming.get(acknowledged)?.letGo();
        this.incoming.delete(acknowledged);
      }
      handler(ack, ack.toString(), flowOf(source));
    });
  }

  onAckTimeout(handler: (invite: IncomingTransaction) => void): void {
    this.manager.on('ackTimeout', (invite) => {
      const txn = this.incoming.get(invite);
      if (txn) handler(txn);
    });
  }

  onStrayResponse(handler: (response: SipResponse, flow: Flow) => void): void {
    this.manager.on('strayResponse', (response, source) => handler(response, flowOf(source)));
  }

  async sendRequest(
    request: SipRequest,
    nextHop?: string,
    options: SendOptions = {},
  ): Promise<OutgoingTransaction> {
    const target = await this.locate(request, nextHop);
    if (options.proxy) this.addProxyVia(request, target);
    const tx = this.manager.sendRequest(request, target);
    const flow = flowTo(this.transport, target);
    const listeners: Array<(response: SipResponse, raw: string, flow: Flow) => void> = [];
    tx.on('response', (response) => {
      const raw = response.toString();
      for (const l of listeners) l(response, raw, flow);
      // A final response other than an INVITE's 2xx is the last one passed up (§17.1.1.2, §17.1.2.2): the
      // listeners, and the request they hold, are let go while the transaction waits out Timer D or K.
      const status = response.status;
      if (status >= 300 || (status >= 200 && tx.kind !== 'invite-client')) listeners.length = 0;
    });
    const adapter = this;
    // Methods, not named arrows (docs/performance.md, "What a name made at run time costs").
    return {
      request,
      sent: { raw: request.toString(), flow },
      onResponse(l) {
        listeners.push(l);
      },
      async cancel(reason) {
        return adapter.cancel(tx, reason, flow);
      },
    };
  }

  async sendAck(ack: SipRequest, nextHop?: string, options: SendOptions = {}): Promise<Sent> {
    const target = await this.locate(ack, nextHop);
    if (options.proxy) this.addProxyVia(ack, target);
    const result = await this.manager.sendAck(ack, target);
    return { raw: ack.toString(), flow: flowOfSend(result) };
  }

  listenerFor(uri: string, nextHop?: string): StackListener | undefined {
    const transport = transportOf(nextHop ?? uri);
    if (!transport) return undefined;
    let host: string | undefined;
    try {
      const parsed = parseUri(nextHop ?? uri);
      if (parsed instanceof SipUri) host = parsed.host;
    } catch {
      return undefined;
    }
    const info = this.transport.selectListener(
      transport,
      host && /^[\d.:a-f]+$/i.test(host) ? host : undefined,
    );
    return info ? toStackListener(info) : undefined;
  }

  private addProxyVia(request: SipRequest, target: TransportTarget): void {
    const listener = this.transport.selectListener(target.transport, target.address);
    if (!listener) throw new Error(`no ${target.transport} listener for ${target.address}`);
    request.prependVia(newVia(listener));
  }

  async close(): Promise<void> {
    this.manager.close();
    await this.transport.close();
  }

  private wrapIncoming(
    request: SipRequest,
    tx: ServerTransaction,
    source: MessageSource,
  ): IncomingTransaction {
    const txn = new IncomingServerTransaction(request, tx, flowOf(source), this.manager);
    if (tx.kind === 'invite-server') this.incoming.set(tx, txn);
    return txn;
  }

  private async cancel(tx: ClientTransaction, reason: string | undefined, flow: Flow): Promise<Sent> {
    if (!(tx instanceof InviteClientTransaction)) throw new Error('only an INVITE can be cancelled');
    if (tx.state !== 'calling' && tx.state !== 'proceeding') throw new Error('transaction already completed');
    const cancelTx = this.manager.cancel(tx, reason);
    const cancel = cancelTx?.request ?? withReason(createCancel(tx.request), reason);
    return { raw: cancel.toString(), flow };
  }

  /**
   * Where a request goes (RFC 3261 §8.1.2, §16.12): the first Route when it is a loose router, else the
   * outbound proxy the app named, else the Request-URI; resolved with RFC 3263.
   */
  private async locate(request: SipRequest, nextHop?: string): Promise<TransportTarget> {
    const route = request.route[0];
    const uri = route ? route.uri : nextHop ? parseUri(nextHop) : request.uri;
    if (!(uri instanceof SipUri)) throw new Error(`cannot send to a ${uri.toString().split(':')[0]} URI`);
    const transportParam = uri.params.get('transport');
    const targets: ResolvedTarget[] = await this.resolver.resolve({
      host: uri.host,
      ...(uri.port !== undefined ? { port: uri.port } : {}),
      ...(typeof transportParam === 'string' ? { transport: transportParam } : {}),
      secure: uri.scheme === 'sips',
    });
    const usable = targets.find((t) => this.transport.selectListener(t.transport, t.address));
    if (!usable) throw new Error(`no route to ${uri.host}: requested protocol/transport not available`);
    return {
      transport: usable.transport,
      address: usable.address,
      port: usable.port,
      serverName: usable.serverName,
    };
  }
}

/**
 * The listeners for a transaction's end, in a scope of their own: the transaction's 'terminated' handler
 * must not capture the wrapper (request and raw text), or a completed transaction would keep it alive.
 */
function endingListeners(tx: ServerTransaction): Set<() => void> {
  const listeners = new Set<() => void>();
  tx.once('terminated', () => {
    for (const listener of listeners) listener();
    listeners.clear();
  });
  return listeners;
}

/**
 * A server transaction as the bridge sees it. A class rather than an object literal with closures: one is made
 * per request, and under tsx every closure also costs a `defineProperty` for its name (it showed in the
 * registrar's profile).
 */
class IncomingServerTransaction implements IncomingTransaction {
  private text: string | undefined;
  /** Made on the first onTerminated: most requests (every REGISTER answered in the process) get none. */
  private ending: Set<() => void> | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly tx: ServerTransaction,
    readonly flow: Flow,
    private readonly manager: TransactionManager,
  ) {}

  get serverTransaction(): ServerTransaction {
    return this.tx;
  }

  /**
   * The request as text, made when first read: an app's request reads it at once (same turn, nothing
   * changed it yet); a REGISTER answered in the engine's process never does, and printing it cost a
   * serialisation per registration.
   */
  get raw(): string {
    this.text ??= this.request.toString();
    return this.text;
  }

  async respond(response: SipResponse): Promise<Sent> {
    const { tx, request } = this;
    const mode = takeReplyMode(response, request.method);
    if (mode === 'drop') tx.terminate();
    else if (mode === 'stateless') tx.respondStateless(response);
    if (mode !== 'stateful') return new SentMessage(response, this.flow);
    const isInvite2xx = request.method === 'INVITE' && response.status >= 200 && response.status < 300;
    if (isInvite2xx && tx.state !== 'accepted')
      this.manager.acceptInvite(tx as InviteServerTransaction, response);
    else tx.respond(response);
    this.answered(response);
    return new SentMessage(response, this.flow);
  }

  async relay(response: SipResponse): Promise<Sent> {
    this.tx.respond(response);
    this.answered(response);
    return new SentMessage(response, this.flow);
  }

  onTerminated(listener: () => void): void {
    this.ending ??= endingListeners(this.tx);
    this.ending.add(listener);
  }

  /**
   * The transaction only waits for retransmissions now (a non-INVITE in Completed, RFC 3261 §17.2.2; an
   * INVITE whose 2xx was acknowledged, RFC 6026 §7.1): its end concerns nobody any more, and the listeners
   * waiting for it (they name this wrapper, its request and text) need not stay for Timer J or L.
   */
  letGo(): void {
    this.ending?.clear();
    this.text = undefined;
  }

  private answered(response: SipResponse): void {
    if (response.status >= 200 && this.tx.kind === 'non-invite-server') this.letGo();
  }
}

/**
 * What went on the wire, printed when first read: the in-process answers (every REGISTER) never read it,
 * and the socket layer already serialised the message once.
 */
class SentMessage implements Sent {
  private text: string | undefined;

  constructor(
    private readonly message: SipResponse,
    readonly flow: Flow,
  ) {}

  get raw(): string {
    this.text ??= this.message.ensureContentLength().toString();
    return this.text;
  }
}

function withReason(cancel: SipRequest, reason: string | undefined): SipRequest {
  if (reason) cancel.appendHeader('Reason', reason);
  return cancel;
}

function toStackListener(info: ListenerInfo): StackListener {
  return {
    transport: info.transport,
    host: info.host,
    port: info.port,
    advertisedAddress: info.advertisedHost,
    advertisedPort: info.advertisedPort,
  };
}

function flowOf(source: MessageSource): Flow {
  return {
    transport: source.transport,
    localAddress: source.localAddress,
    localPort: source.localPort,
    remoteAddress: source.remoteAddress,
    remotePort: source.remotePort,
  };
}

function flowOfSend(result: SendResult): Flow {
  return {
    transport: result.transport,
    localAddress: result.localAddress,
    localPort: result.localPort,
    remoteAddress: result.address,
    remotePort: result.port,
  };
}

/** The flow a request to this target leaves on (the listener's address; the connection's once it exists). */
function flowTo(transport: TransportLayer, target: TransportTarget): Flow {
  const listener = transport.selectListener(target.transport, target.address);
  return {
    transport: target.transport,
    localAddress: listener?.host ?? '',
    localPort: listener?.port ?? 0,
    remoteAddress: target.address,
    remotePort: target.port,
  };
}

function transportOf(uriText: string): TransportProtocol | undefined {
  try {
    const uri = parseUri(uriText);
    if (!(uri instanceof SipUri)) return undefined;
    const param = uri.params.get('transport');
    if (typeof param === 'string') {
      const t = param.toLowerCase();
      return t === 'udp' || t === 'tcp' || t === 'tls' || t === 'ws' || t === 'wss' ? t : undefined;
    }
    return uri.scheme === 'sips' ? 'tls' : 'udp';
  } catch {
    return undefined;
  }
}
