import { CHANGES_CHANNEL, type Database, type PrismaClient, parseTableChange } from '@switchboard/db';
import { type MediaRelay, NullMedia } from '@switchboard/media';
import {
  createMetricsRegistry,
  type MetricsRegistry,
  type SipCoreMetrics,
  sipCoreMetrics,
} from '@switchboard/metrics';
import { followDatabase, type IndexFollower, NumberingIndex } from '@switchboard/numbering';
import { DigestServer } from '@switchboard/sip';
import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { BanService } from './access/ban-service.ts';
import { RateLimiter } from './access/rate-limiter.ts';
import { ScannerDetector } from './access/scanner.ts';
import { ActiveCalls } from './calls/active-calls.ts';
import { CallForwards } from './calls/call-forwards.ts';
import type { ActiveCallInfo } from './calls/call-types.ts';
import { type CallsConfig, DEFAULT_CALLS } from './calls/calls-config.ts';
import type { DeviceWaker } from './calls/devices.ts';
import { inviteStages } from './calls/stages/index.ts';
import { CdrWriter } from './cdr/cdr-writer.ts';
import { chain } from './chain.ts';
import { resolveConfig, type SipCoreConfig, type SipCoreOptions } from './config.ts';
import { Directory } from './directory/directory.ts';
import { type MessageDeps, type MessageRequester, messageHandler } from './handlers/message.ts';
import { optionsHandler } from './handlers/options.ts';
import { registerHandler } from './handlers/register.ts';
import type { Binding } from './location/binding.ts';
import { LocationService, REGISTRATIONS_CHANNEL } from './location/location-service.ts';
import { sipCoreGauges } from './metrics.ts';
import { authenticate, CALLER, REGISTRAR } from './middleware/authenticate.ts';
import { banCheck } from './middleware/ban-check.ts';
import { domainCheck } from './middleware/domain-check.ts';
import { identifyPeer, type PeerDirectory } from './middleware/identify-peer.ts';
import { identifySource } from './middleware/identify-source.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { sanity } from './middleware/sanity.ts';
import { scannerFilter } from './middleware/scanner-filter.ts';
import { NatKeepalive } from './nat/keepalive.ts';
import type { RegistrarPush } from './push/contact-push.ts';
import { createPush, type SipCorePush, type SipCorePushOptions } from './push/setup.ts';
import { registerPushStatusCode } from './push/status-code.ts';
import { LiveSettings } from './settings.ts';
import type { Middleware, SipResponse } from './sip/request.ts';
import { RequestView, type SrfRequestLike } from './sip/request-view.ts';

export interface SipCoreDeps {
  prisma: PrismaClient;
  /** For the change feed (`onChange`); the same database `prisma` talks to. */
  db: Pick<Database, 'onChange'>;
  logger: Logger;
  /** Media relay anchoring every call (from `resolveMediaConfig`); default: no anchoring (NullMedia). */
  media?: MediaRelay;
  /** Call handling settings (ring timeout, duration cap). */
  calls?: Partial<CallsConfig>;
  /**
   * The number mapping, already following the database (the all-in-one launcher shares the numbering
   * service's index); default: sip-core loads and follows its own.
   */
  numbering?: NumberingIndex;
  /** Push notifications (RFC 8599): endpoints, credentials key, refresh timing. */
  push?: SipCorePushOptions;
  /** Where sip-core's metrics go (the all-in-one launcher shares one registry); default: a private one. */
  metrics?: MetricsRegistry;
  /**
   * Keys of the operator settings that environment variables fix (`settingsFromEnvironment`): the
   * `settings` table does not change them. Default: none.
   */
  fixedSettings?: Iterable<string>;
}

export interface RunningSipCore {
  config: SipCoreConfig;
  location: LocationService;
  /** Push service, waiters for woken devices and the refresh pushes (RFC 8599). */
  push: SipCorePush;
  /** The calls in progress on this node, for the live-state API. */
  activeCalls(): ActiveCallInfo[];
  close(): Promise<void>;
}

/** Everything a request chain needs, built once per process. */
export interface SipCoreServices {
  config: SipCoreConfig;
  directory: Directory;
  bans: BanService;
  location: LocationService;
  digest: DigestServer;
  limiter: RateLimiter;
  scanners: ScannerDetector;
  log: Logger;
  metrics: SipCoreMetrics;
  /**
   * Peer gateways by source address (the numbering index); requests from them are trusted. Unset:
   * only `access.trustedSources` are.
   */
  peers?: PeerDirectory | undefined;
  /** RFC 8599 support of the registrar; unset: pn-* parameters are stored as they come. */
  push?: RegistrarPush | undefined;
}

export function createServices(
  config: SipCoreConfig,
  prisma: PrismaClient,
  log: Logger,
  peers?: PeerDirectory,
  registry: MetricsRegistry = createMetricsRegistry({ process: false }),
): SipCoreServices {
  const metrics = sipCoreMetrics(registry);
  const bans = new BanService(prisma, config.access, log.child({ component: 'bans' }));
  bans.countFailuresIn(metrics.authFailures);
  return {
    peers,
    metrics,
    config,
    directory: new Directory(prisma, log.child({ component: 'directory' })),
    bans,
    location: new LocationService(prisma, {
      nodeName: config.nodeName,
      log: log.child({ component: 'location' }),
      maxBindingsPerAor: config.registrar.maxContactsPerAor,
      writeBehindMs: config.registrar.writeBehindMs,
    }),
    digest: new DigestServer({
      secret: config.auth.nonceSecret,
      nonceTtlSeconds: config.auth.nonceTtl,
      algorithms: config.auth.algorithms,
    }),
    limiter: new RateLimiter(config.access.rateLimitPerSecond, config.access.rateLimitBurst),
    scanners: new ScannerDetector(config.access.scannerUserAgents),
    log,
  };
}

/** The stages every request passes, cheapest refusals first. */
function admission(services: SipCoreServices): Middleware[] {
  return [
    identifySource(services.bans),
    ...(services.peers ? [identifyPeer(services.peers)] : []),
    banCheck(services.bans),
    rateLimit(services.limiter),
    scannerFilter(services.scanners),
    sanity(),
  ];
}

/** REGISTER: admission, our domain only, digest authentication, then the registrar. */
export function registerChain(services: SipCoreServices): Middleware[] {
  return [
    ...admission(services),
    domainCheck(services.directory),
    authenticate(services, REGISTRAR),
    registerHandler({
      location: services.location,
      config: services.config.registrar,
      nodeName: services.config.nodeName,
      log: services.log.child({ component: 'registrar' }),
      push: services.push,
      registrations: services.metrics.registrations,
    }),
  ];
}

/**
 * MESSAGE: admission, the sender's digest (407), then the relay to the addressed subscriber's devices,
 * sleeping apps woken by push first (handlers/message.ts).
 */
export function messageChain(
  services: SipCoreServices,
  deps: Pick<MessageDeps, 'srf' | 'push' | 'pushWaitTimeout'>,
): Middleware[] {
  return [
    ...admission(services),
    authenticate(services, CALLER),
    messageHandler({
      ...deps,
      directory: services.directory,
      location: services.location,
      log: services.log.child({ component: 'message' }),
    }),
  ];
}

/** OPTIONS: admission, then 200 (keep-alives from devices and peers). */
export function optionsChain(services: SipCoreServices): Middleware[] {
  return [...admission(services), optionsHandler()];
}

export interface InviteChainDeps {
  srf: Srf;
  media: MediaRelay;
  cdr: CdrWriter;
  prisma: PrismaClient;
  calls: ActiveCalls;
  forwards: CallForwards;
  numbering?: NumberingIndex;
  callsConfig: CallsConfig;
  /** RFC 8599 wake-ups of push devices; unset: they are rung like any other. */
  push?: DeviceWaker;
}

/**
 * INVITE: admission, caller identity (trusted peer or digest 407), then the call's own stages:
 * classify, resolve, admit, present, connect (calls/stages/).
 */
export function inviteChain(services: SipCoreServices, deps: InviteChainDeps): Middleware[] {
  return [
    ...admission(services),
    authenticate(services, CALLER),
    ...inviteStages({
      srf: deps.srf,
      media: deps.media,
      cdr: deps.cdr,
      directory: services.directory,
      forwards: deps.forwards,
      location: services.location,
      prisma: deps.prisma,
      calls: deps.calls,
      numbering: deps.numbering,
      config: deps.callsConfig,
      log: services.log.child({ component: 'calls' }),
      push: deps.push,
    }),
  ];
}

/**
 * The one adapter of every method: a view of drachtio-srf's request and response for the chain
 * (drachtio-srf's Request has every member SrfRequestLike names; its typings omit some).
 */
function requestView(req: Srf.SrfRequest, res: Srf.SrfResponse): RequestView {
  return new RequestView(req as unknown as SrfRequestLike, { req, res });
}

function asSipResponse(res: Srf.SrfResponse): SipResponse {
  return { send: (status, reason, options) => res.send(status, reason ?? '', options ?? {}) };
}

/** srf.request as drachtio-srf implements it (its bundled typings declare a different signature). */
interface OutboundRequester {
  request(
    uri: string,
    options: { method: string; proxy?: string; headers?: Record<string, string> },
  ): Promise<{ on(event: 'response', listener: (res: { status: number }) => void): void }>;
}

/** Sends a keep-alive OPTIONS to where the device's packets come from; any answer but 408 counts. */
function keepaliveSender(srf: OutboundRequester, log: Logger): (binding: Binding) => Promise<boolean> {
  return (binding) =>
    new Promise<boolean>((resolve) => {
      const guard = setTimeout(() => resolve(false), 40_000);
      guard.unref();
      const done = (answered: boolean): void => {
        clearTimeout(guard);
        resolve(answered);
      };
      srf
        .request(binding.contactUri, {
          method: 'OPTIONS',
          proxy: `sip:${binding.receivedAddress}:${binding.receivedPort};transport=udp`,
          headers: { 'Max-Forwards': '70' },
        })
        .then((req) => req.on('response', (res) => done(res.status !== 408)))
        .catch((error: unknown) => {
          log.debug({ err: error, contact: binding.contactUri }, 'keep-alive failed');
          done(false);
        });
    });
}

/**
 * Applies one `CHANGES_CHANNEL` notification to the caches: domains, subscribers and customers to
 * the directory, `ip_bans` to the ban list (other tables are someone else's).
 */
export function tableChangeHandler(
  services: Pick<SipCoreServices, 'directory' | 'bans' | 'log'> & {
    forwards?: CallForwards;
    pushCredentials?: { forget(): void };
    settings?: { load(): Promise<void> };
  },
): (payload: string) => void {
  const { directory, bans, forwards, pushCredentials, settings, log } = services;
  return (payload) => {
    const change = parseTableChange(payload);
    if (!change) return;
    const id = change.op === 'truncate' ? null : change.id;
    let work: Promise<void> | undefined;
    switch (change.table) {
      case 'domains':
        work = directory.onDomainChanged(id);
        break;
      case 'subscribers':
        work = directory.onSubscriberChanged(id);
        break;
      case 'customers':
        work = directory.onCustomerChanged(id);
        break;
      case 'ip_bans':
        work = bans.onBanChanged(id);
        break;
      case 'call_forwards':
        work = forwards?.onForwardChanged(id);
        break;
      case 'call_forward_destinations':
        work = forwards?.onDestinationChanged(id);
        break;
      // Uploaded, replaced or deleted push credentials apply from the next push on.
      case 'push_credentials':
        pushCredentials?.forget();
        break;
      // An operator changed a setting: applied from the next request on, no restart.
      case 'settings':
        work = settings?.load();
        break;
    }
    work?.catch((error: unknown) => log.error({ err: error, change }, 'applying a change failed'));
  };
}

/**
 * Starts sip-core: loads domains, subscribers, bans and bindings, follows the database change feed,
 * connects to the engine (or drachtio-server) and serves REGISTER and OPTIONS.
 */
export async function startSipCore(options: SipCoreOptions, deps: SipCoreDeps): Promise<RunningSipCore> {
  const config = resolveConfig(options);
  // The caller names the app (standalone: sip-core, all-in-one: switchboard with component sip-core).
  const log = deps.logger.child({ node: config.nodeName });
  // The numbering index also tells which peer gateway a source address belongs to, so it is loaded
  // before the first request can arrive.
  let numbering = deps.numbering;
  let numberingFollower: IndexFollower | undefined;
  if (!numbering) {
    numbering = new NumberingIndex();
    numberingFollower = await followDatabase({
      db: { prisma: deps.prisma, onChange: deps.db.onChange.bind(deps.db) },
      index: numbering,
      logger: log.child({ component: 'numbering' }),
    });
    await numberingFollower.ready;
  }
  const registry = deps.metrics ?? createMetricsRegistry({ process: false });
  const services = createServices(config, deps.prisma, log, numbering, registry);
  const { directory, bans, location } = services;
  const push = createPush(deps.push ?? {}, {
    prisma: deps.prisma,
    location,
    nodeName: config.nodeName,
    tokenSecret: config.auth.nonceSecret,
    log,
    metrics: registry,
  });
  services.push = push.registrar;
  registerPushStatusCode();

  const forwards = new CallForwards(deps.prisma, log.child({ component: 'forwards' }));
  const callsConfig: CallsConfig = { ...DEFAULT_CALLS, ...deps.calls };
  const settings = new LiveSettings(
    deps.prisma,
    { config, calls: callsConfig, limiter: services.limiter, bans },
    new Set(deps.fixedSettings ?? []),
    log.child({ component: 'settings' }),
  );
  await Promise.all([directory.load(), bans.load(), location.load(), forwards.load(), settings.load()]);
  const reloadAll = (): void => {
    push.store.forget();
    Promise.all([directory.load(), bans.load(), forwards.load(), settings.load()]).catch((error: unknown) =>
      log.error({ err: error }, 'reload after change feed reconnect failed'),
    );
  };
  const onTableChange = tableChangeHandler({ ...services, forwards, pushCredentials: push.store, settings });
  const stopFeeds = [
    await deps.db.onChange(CHANGES_CHANNEL, onTableChange, { onReconnect: reloadAll }),
    await deps.db.onChange(
      REGISTRATIONS_CHANNEL,
      (payload) => {
        location
          .onAnnouncement(payload)
          .catch((error: unknown) => log.error({ err: error }, 'reloading an announced AOR failed'));
      },
      {
        onReconnect: () => {
          location.load().catch((error: unknown) => log.error({ err: error }, 'location reload failed'));
        },
      },
    ),
  ];

  const srf = new Srf();
  const register = chain(registerChain(services), log);
  const options_ = chain(optionsChain(services), log);
  srf.use('register', (req, res) => register(requestView(req, res), asSipResponse(res)));
  srf.use('options', (req, res) => options_(requestView(req, res), asSipResponse(res)));
  const media = deps.media ?? new NullMedia(log.child({ component: 'media' }));
  const cdr = new CdrWriter(deps.prisma, config.nodeName, log.child({ component: 'cdr' }), services.metrics);
  await cdr.reconcile();
  cdr.startHeartbeat();
  const calls = new ActiveCalls();
  const detachGauges = sipCoreGauges(registry, { calls, location, media });
  const invite = chain(
    inviteChain(services, {
      srf,
      media,
      cdr,
      prisma: deps.prisma,
      calls,
      forwards,
      numbering,
      callsConfig,
      push: push.waker,
    }),
    log,
  );
  srf.use('invite', (req, res) => invite(requestView(req, res), asSipResponse(res)));
  const message = chain(
    messageChain(services, {
      srf: srf as unknown as MessageRequester,
      push: push.waker,
      pushWaitTimeout: () => callsConfig.pushWaitTimeout,
    }),
    log,
  );
  srf.use('message', (req, res) => message(requestView(req, res), asSipResponse(res)));
  srf.on('error', (error: Error) => log.warn({ err: error }, 'engine connection error'));

  await new Promise<void>((resolve, reject) => {
    const onConnect = (error: Error | null, hostport: string): void => {
      srf.removeListener('error', onError);
      if (error) {
        reject(error);
        return;
      }
      log.info({ hostport }, 'connected to the SIP engine');
      resolve();
    };
    const onError = (error: Error): void => {
      srf.removeListener('connect', onConnect);
      reject(error);
    };
    srf.once('connect', onConnect);
    srf.once('error', onError);
    srf.connect({ host: config.drachtio.host, port: config.drachtio.port, secret: config.drachtio.secret });
  });

  const keepalive = new NatKeepalive(
    location,
    keepaliveSender(srf as unknown as OutboundRequester, log),
    config.nat,
    config.nodeName,
    log.child({ component: 'keepalive' }),
  );
  keepalive.start();
  push.refresher.start();

  let closed = false;
  return {
    config,
    location,
    push,
    activeCalls: () => calls.list(),
    async close() {
      if (closed) return;
      closed = true;
      detachGauges();
      keepalive.stop();
      await push.close();
      srf.disconnect();
      await cdr.stop();
      await Promise.all(stopFeeds.map((stop) => stop()));
      await numberingFollower?.close();
      // Writes the binding changes still waiting behind their answers (write-behind window).
      await Promise.all([location.close(), bans.close()]);
    },
  };
}
