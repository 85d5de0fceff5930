import { createHash, timingSafeEqual } from 'node:crypto';
import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { isLoopbackHost, MIN_ENGINE_SECRET_LENGTH } from '@switchboard/config';
import type { Logger } from 'pino';
import { authenticateCommand, authenticateReply, routeVerb } from '../wire/commands.ts';
import { type AppMessage, AppMessageError, parseAppMessage, responseMessage } from '../wire/protocol.ts';
import { AppConnection } from './app-connection.ts';
import { AppRegistry } from './app-registry.ts';
import { type AppTransport, SocketTransport } from './app-transport.ts';
import { AuthGuard, type AuthGuardOptions, DEFAULT_AUTH_GUARD } from './auth-guard.ts';
import { type AppEnd, InProcessLink } from './in-process-link.ts';

/** What the SIP side of the engine does with the SIP-carrying app messages. */
export interface AppRequestHandler {
  /** `sip|txnId|dialogId[|outboundProxy]` + SIP: a response, an in-dialog request, a CANCEL or a new request. */
  handleSip(app: AppConnection, msg: AppMessage): void;
  /** `proxy|txnId|remainInDialog|fullResponse|followRedirects|simultaneous|provTimeout|finalTimeout|dest...` */
  handleProxy(app: AppConnection, msg: AppMessage): void;
  /** The app disconnected: answer its pending transactions, clean up its dialogs. */
  appGone(app: AppConnection): void;
}

/** What the engine tells an app about itself when it authenticates. */
export interface EngineIdentity {
  /** `udp/1.2.3.4:5060` per SIP listener, with the advertised address. */
  hostports(): string[];
  /** The same with the bound (local) address. */
  localHostports(): string[];
  /** Starts with vX.Y.Z: drachtio-srf parses it to decide whether the engine answers pings (>= v0.8.2). */
  version: string;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  secret: string;
  /** Serve the admin listener over TLS instead of plain TCP. */
  tls?: TlsOptions;
  /** An app that has not authenticated within this time is disconnected. */
  authTimeoutMs?: number;
  maxConnections?: number;
  identity: EngineIdentity;
  handler: AppRequestHandler;
  logger: Logger;
  /** Share a registry with the SIP side (it selects apps for new requests); one is created when omitted. */
  registry?: AppRegistry<AppConnection>;
  /** Delay after a wrong secret and the ban after repeated ones (defaults: DEFAULT_AUTH_GUARD). */
  authGuard?: Partial<AuthGuardOptions>;
}

/** Trust for outbound TLS connections to apps (reverse mode): extra CA certificates, PEM; Node's CAs when unset. */
export interface OutboundTls {
  ca?: string;
}

const VERB = /^[a-z][a-z0-9:_-]{0,31}$/;

/**
 * The admin listener: accepts drachtio-srf apps, authenticates them with the shared secret and answers the
 * protocol's housekeeping messages (authenticate, route, remove_route, ping). SIP-carrying messages go to the
 * AppRequestHandler.
 */
export class AdminServer {
  readonly registry: AppRegistry<AppConnection>;
  readonly apps = new Set<AppConnection>();
  /** Messages received per type, and rejected connections: for logs, metrics and tests. */
  readonly counters = {
    messages: new Map<string, number>(),
    authFailures: 0,
    protocolErrors: 0,
    /** Connections closed unread because their address is banned. */
    bannedConnections: 0,
  };
  private server: Server | undefined;
  /** Outbound connections waiting for the app's authenticate (reverse mode, `Srf.listen`). */
  private readonly outboundWaiters = new Map<AppConnection, (err: Error | undefined) => void>();
  private readonly secretDigest: Buffer;
  private readonly log: Logger;
  private readonly guard: AuthGuard;
  /** Connections that gave a wrong secret: nothing more is read from them until they are closed. */
  private readonly failed = new WeakSet<AppConnection>();

  constructor(private readonly options: AdminServerOptions) {
    if (options.secret === '') throw new Error('the admin secret must not be empty');
    this.secretDigest = digest(options.secret);
    this.guard = new AuthGuard({ ...DEFAULT_AUTH_GUARD, ...options.authGuard });
    this.registry = options.registry ?? new AppRegistry<AppConnection>();
    this.log = options.logger;
  }

  async listen(): Promise<{ host: string; port: number }> {
    // A short secret is guessable: acceptable only where no other host can try (drachtio-server takes any).
    if (this.options.secret.length < MIN_ENGINE_SECRET_LENGTH) {
      if (!isLoopbackHost(this.options.host)) {
        throw new Error(
          `the admin secret must have at least ${MIN_ENGINE_SECRET_LENGTH} characters on ${this.options.host}, which other hosts can reach`,
        );
      }
      this.log.warn(
        { host: this.options.host, length: this.options.secret.length },
        `admin secret shorter than ${MIN_ENGINE_SECRET_LENGTH} characters: accepted on loopback only`,
      );
    }
    const onSocket = (socket: Socket) => {
      const remote = socket.remoteAddress ?? '';
      if (this.guard.isBanned(remote)) {
        this.counters.bannedConnections++;
        this.log.debug({ remote }, 'connection from a banned address closed');
        socket.destroy();
        return;
      }
      this.accept(new SocketTransport(socket, this.log));
    };
    const server = this.options.tls
      ? createTlsServer(this.options.tls, onSocket)
      : createServer({ noDelay: true }, onSocket);
    server.maxConnections = this.options.maxConnections ?? 1000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'admin listener error'));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('admin listener has no address');
    this.log.info({ host: address.address, port: address.port, tls: !!this.options.tls }, 'admin listening');
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const app of this.apps) app.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Reverse mode (drachtio-server's outbound connections, drachtio-srf's `Srf.listen`): the engine connects to
   * an app, the app authenticates over that connection exactly as a connecting app does, and the promise
   * resolves with the authenticated connection. Such an app routes nothing: it gets the request it was
   * connected for, then that request's dialog, and closes the connection when done (srf.endSession).
   */
  connectOutbound(
    host: string,
    port: number,
    options: { tls?: OutboundTls; timeoutMs?: number } = {},
  ): Promise<AppConnection> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      // Over TLS the app's certificate must chain to the trusted CAs (Node's, or `ca`) and name the host.
      const socket = options.tls
        ? connectTls({
            host,
            port,
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ...(options.tls.ca ? { ca: options.tls.ca } : {}),
          }).setNoDelay(true)
        : connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no authenticated connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        const app = this.accept(new SocketTransport(socket, this.log));
        this.outboundWaiters.set(app, (err) => {
          clearTimeout(timer);
          this.outboundWaiters.delete(app);
          if (err) reject(err);
          else resolve(app);
        });
        app.onClose(() => this.outboundWaiters.get(app)?.(new Error('app closed the connection')));
      });
    });
  }

  /**
   * An app in this process (the all-in-one launcher's sip-core): it connects through the returned end
   * instead of a socket, and authenticates with the secret as any app does.
   */
  linkInProcess(): AppEnd {
    const link = new InProcessLink((err) =>
      this.log.error({ err }, 'failed to process a message from an in-process app'),
    );
    this.accept(link.engineEnd);
    return link.appEnd;
  }

  private accept(transport: AppTransport): AppConnection {
    const app = new AppConnection(transport, (conn, payload) => this.receive(conn, payload));
    this.apps.add(app);
    this.log.info({ app: app.id, remote: `${app.remoteAddress}:${app.remotePort}` }, 'app connected');
    const authTimer = setTimeout(() => {
      if (app.state === 'awaiting-authentication') {
        this.log.warn({ app: app.id }, 'app did not authenticate in time; disconnecting it');
        app.destroy();
      }
    }, this.options.authTimeoutMs ?? 10_000);
    authTimer.unref();
    app.onClose(() => {
      clearTimeout(authTimer);
      this.apps.delete(app);
      this.registry.removeApp(app);
      if (app.authenticatedAt !== undefined) this.options.handler.appGone(app);
      this.log.info({ app: app.id }, 'app disconnected');
    });
    return app;
  }

  private receive(app: AppConnection, payload: string): void {
    let msg: AppMessage;
    try {
      msg = parseAppMessage(payload);
    } catch (err) {
      if (!(err instanceof AppMessageError)) throw err;
      this.counters.protocolErrors++;
      this.log.warn({ app: app.id, reason: err.message }, 'invalid message from app; disconnecting it');
      app.close(err.msgId ? responseMessage(err.msgId, 'NO', 'Invalid message format') : undefined);
      return;
    }
    if (this.failed.has(app)) return;
    this.counters.messages.set(msg.type, (this.counters.messages.get(msg.type) ?? 0) + 1);
    if (app.state !== 'authenticated' && msg.type !== 'authenticate') {
      this.counters.protocolErrors++;
      this.log.warn({ app: app.id, type: msg.type }, 'message before authentication; disconnecting app');
      app.close(responseMessage(msg.msgId, 'NO', 'not authenticated'));
      return;
    }
    try {
      this.dispatch(app, msg);
    } catch (err) {
      // A handler bug must cost this one request, not the engine.
      this.log.error({ err, app: app.id, type: msg.type }, 'failed to process app message');
      app.send(responseMessage(msg.msgId, 'NOK', 'internal error'));
    }
  }

  private dispatch(app: AppConnection, msg: AppMessage): void {
    switch (msg.type) {
      case 'authenticate':
        this.authenticate(app, msg);
        return;
      case 'ping':
        app.send(responseMessage(msg.msgId, 'OK', 'pong'));
        return;
      case 'route':
      case 'remove_route': {
        const verb = routeVerb(msg);
        if (!VERB.test(verb)) {
          app.send(responseMessage(msg.msgId, 'NO', 'Route request includes unsupported verb'));
          return;
        }
        // drachtio-server's remove_route drops every route of the app, not only the verb named (its
        // no_longer_wants_requests); apps written against it (drachtio-srf's unregisterForMessages) see that.
        if (msg.type === 'route') this.registry.route(app, verb);
        else this.registry.removeApp(app);
        this.log.debug({ app: app.id, verb, op: msg.type }, 'route updated');
        app.send(responseMessage(msg.msgId, 'OK'));
        return;
      }
      case 'sip':
        this.options.handler.handleSip(app, msg);
        return;
      case 'proxy':
        this.options.handler.handleProxy(app, msg);
        return;
      default:
        this.counters.protocolErrors++;
        this.log.warn({ app: app.id, type: msg.type }, 'unknown message type from app; disconnecting it');
        app.close(responseMessage(msg.msgId, 'NO', 'Unknown message type'));
    }
  }

  private authenticate(app: AppConnection, msg: AppMessage): void {
    if (app.state === 'authenticated') {
      app.send(responseMessage(msg.msgId, 'NO', 'already authenticated'));
      return;
    }
    const { secret, tags } = authenticateCommand(msg);
    if (!timingSafeEqual(digest(secret), this.secretDigest)) {
      this.refuse(app, msg.msgId);
      return;
    }
    app.authenticated(tags);
    const { identity } = this.options;
    this.log.info({ app: app.id, tags }, 'app authenticated');
    app.send(authenticateReply(msg.msgId, identity.hostports(), identity.version, identity.localHostports()));
    this.outboundWaiters.get(app)?.(undefined);
  }

  /**
   * A wrong secret: the answer and the close wait failureDelayMs, so one connection tries at most once per
   * delay; enough failures from one address ban it, and its other unauthenticated connections go at once.
   */
  private refuse(app: AppConnection, msgId: string): void {
    this.counters.authFailures++;
    this.failed.add(app);
    const remote = app.remoteAddress;
    const banned = this.guard.recordFailure(remote);
    this.log.warn({ app: app.id, remote }, 'app gave an incorrect secret');
    if (banned) {
      const { maxFailures, failureWindowMs, banMs } = this.guard.options;
      this.log.warn(
        { remote, failures: maxFailures, windowMs: failureWindowMs, banMs },
        'admin address banned after repeated incorrect secrets',
      );
      for (const other of this.apps) {
        if (other !== app && other.remoteAddress === remote && other.state === 'awaiting-authentication')
          other.destroy();
      }
    }
    const timer = setTimeout(
      () => app.close(responseMessage(msgId, 'NO', 'incorrect secret')),
      this.guard.options.failureDelayMs,
    );
    timer.unref();
    app.onClose(() => clearTimeout(timer));
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
