import type { Database } from '@switchboard/db';
import type { DtmfFeed, MediaRelay } from '@switchboard/media';
import {
  createMetricsRegistry,
  type MetricsRegistry,
  type SipCoreMetrics,
  sipCoreMetrics,
} from '@switchboard/metrics';
import type { NumberingIndex } from '@switchboard/numbering';
import { DigestServer } from '@switchboard/sip';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { BanService } from './access/ban-service.ts';
import { RateLimiter } from './access/rate-limiter.ts';
import { RedisNonceCounts } from './access/redis-nonce-counts.ts';
import { ScannerDetector } from './access/scanner.ts';
import type { AttendantMedia } from './attendant/attendant-media.ts';
import type { ActiveCalls } from './calls/active-calls.ts';
import type { CallForwards } from './calls/call-forwards.ts';
import type { CallsConfig } from './calls/calls-config.ts';
import type { ClusterRoutes } from './calls/cluster-route.ts';
import type { CallCredit } from './calls/credit.ts';
import type { DeviceWaker } from './calls/devices.ts';
import type { GatewayCredentials } from './calls/gateway-credentials.ts';
import type { HuntGroups } from './calls/hunt-groups.ts';
import type { GatewayHealthView } from './calls/pstn.ts';
import { type InviteDeps, inviteStages } from './calls/stages/index.ts';
import type { CdrWriter } from './cdr/cdr-writer.ts';
import { isClustered, type SipCoreConfig } from './config.ts';
import { Directory } from './directory/directory.ts';
import { type MessageDeps, messageHandler } from './handlers/message.ts';
import { optionsHandler } from './handlers/options.ts';
import { publishHandler } from './handlers/publish.ts';
import { registerHandler } from './handlers/register.ts';
import { type SubscribeDeps, subscribeHandler } from './handlers/subscribe.ts';
import { LocationService } from './location/location-service.ts';
import type { MessageQueue } from './messages/queue.ts';
import { authenticate, CALLER, REGISTRAR } from './middleware/authenticate.ts';
import { banCheck } from './middleware/ban-check.ts';
import { domainCheck } from './middleware/domain-check.ts';
import { identifyPeer, type PeerDirectory, type TrunkContacts } from './middleware/identify-peer.ts';
import { identifySource } from './middleware/identify-source.ts';
import { identifyTrunk, type TrunkSources } from './middleware/identify-trunk.ts';
import { nodeCapacity } from './middleware/node-capacity.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { sanity } from './middleware/sanity.ts';
import { scannerFilter } from './middleware/scanner-filter.ts';
import { frontCall } from './pbx/front-call.ts';
import type { EngineAddresses, FlowTokens } from './pbx/fronted-flows.ts';
import { messageToPbx, relayMessage } from './pbx/message-relay.ts';
import { relayNotify } from './pbx/notify-relay.ts';
import { type RegisterRequester, relayRegister } from './pbx/register-relay.ts';
import { relaySubscribe, type SubscriptionRelaySrf } from './pbx/subscribe-relay.ts';
import type { RegistrarPush } from './push/contact-push.ts';
import type { CallRecorder } from './recording/call-recorder.ts';
import type { SbcIndex } from './sbc/sbc-index.ts';
import type { EngineTraits } from './sip/engine-traits.ts';
import { forEngine } from './sip/reply.ts';
import type { Middleware, SendOptions, SipResponse } from './sip/request.ts';
import { RequestView, type SrfRequestLike } from './sip/request-view.ts';
import type { Voicemail } from './voicemail/voicemail.ts';

/** The request chains of REGISTER, OPTIONS and INVITE, and the services they share (built once per process). */

/** Everything a request chain needs, built once per process. */
export interface SipCoreServices {
  config: SipCoreConfig;
  directory: Directory;
  bans: BanService;
  location: LocationService;
  digest: DigestServer;
  /** The digest nonce-counts shared through Redis (when REDIS_URL is set); closed with the process. */
  sharedNonceCounts?: RedisNonceCounts | undefined;
  limiter: RateLimiter;
  scanners: ScannerDetector;
  log: Logger;
  metrics: SipCoreMetrics;
  /**
   * Peer gateways by source address (the numbering index); requests from them are trusted. Unset:
   * only `access.trustedSources` are.
   */
  peers?: PeerDirectory | undefined;
  /** Registered trunks' contacts: a request to one comes from its gateway (trunks/). */
  trunkContacts?: TrunkContacts | undefined;
  /** Customers' IP-authenticated trunks: a request from one's source is its subscriber (wholesale/). */
  customerTrunks?: TrunkSources | undefined;
  /** RFC 8599 support of the registrar; unset: pn-* parameters are stored as they come. */
  push?: RegistrarPush | undefined;
  /** Messages waiting for their recipient, sent when it registers; unset: none are queued. */
  messageQueue?: MessageQueue | undefined;
  /** Fronting upstream PBXs (docs/sbc.md): their phones' flows and how to reach the PBX; unset: off. */
  pbxFront?: PbxFront | undefined;
}

/** What relaying a fronted domain's REGISTERs and calls needs (pbx/). */
export interface PbxFront {
  tokens: FlowTokens;
  /** The engine's listeners (filled on connect): our address in the Path and Contact. */
  engine: EngineAddresses;
  srf: RegisterRequester;
  /** Subscription dialogs towards the PBX and its phones; unset: their SUBSCRIBEs are not relayed. */
  subscriptions?: SubscriptionRelaySrf;
}

export function createServices(
  config: SipCoreConfig,
  db: Pick<Database, 'prisma' | 'sql'>,
  log: Logger,
  peers?: PeerDirectory,
  registry: MetricsRegistry = createMetricsRegistry({ process: false }),
): SipCoreServices {
  const { prisma } = db;
  const metrics = sipCoreMetrics(registry);
  const bans = new BanService(prisma, config.access, log.child({ component: 'bans' }));
  bans.countFailuresIn(metrics.authFailures);
  const sharedNonceCounts = config.redis
    ? new RedisNonceCounts({
        url: config.redis.url,
        ...(config.redis.keyPrefix ? { keyPrefix: config.redis.keyPrefix } : {}),
        nonceTtlMs: config.auth.nonceTtl * 1000,
        log: log.child({ component: 'nonce-counts' }),
      })
    : undefined;
  return {
    peers,
    metrics,
    config,
    // The numbering index (when it is the peer directory) holds each subscriber's id and username too.
    directory: new Directory(
      prisma,
      log.child({ component: 'directory' }),
      peers && 'subscriberStrings' in peers
        ? (id) => (peers as Pick<NumberingIndex, 'subscriberStrings'>).subscriberStrings(id)
        : undefined,
    ),
    bans,
    location: new LocationService(db, {
      nodeName: config.nodeName,
      log: log.child({ component: 'location' }),
      maxBindingsPerAor: config.registrar.maxContactsPerAor,
      writeBehindMs: config.registrar.writeBehindMs,
      shareAtOnce: isClustered(config),
    }),
    digest: new DigestServer({
      secret: config.auth.nonceSecret,
      nonceTtlSeconds: config.auth.nonceTtl,
      algorithms: config.auth.algorithms,
      ...(sharedNonceCounts ? { nonceCounts: sharedNonceCounts } : {}),
    }),
    sharedNonceCounts,
    limiter: new RateLimiter(config.access.rateLimitPerSecond, config.access.rateLimitBurst),
    scanners: new ScannerDetector(config.access.scannerUserAgents),
    log,
  };
}

/** The stages every request passes, cheapest refusals first. */
function admission(services: SipCoreServices): Middleware[] {
  return [
    identifySource(services.bans),
    ...(services.peers || services.trunkContacts
      ? [identifyPeer(services.peers, services.trunkContacts)]
      : []),
    ...(services.customerTrunks ? [identifyTrunk(services.customerTrunks, services.directory)] : []),
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
    ...(services.pbxFront
      ? [
          relayRegister({
            ...services.pbxFront,
            directory: services.directory,
            bans: services.bans,
            log: services.log.child({ component: 'pbx-front' }),
          }),
        ]
      : []),
    domainCheck(services.directory),
    authenticate(services, REGISTRAR),
    registerHandler({
      location: services.location,
      config: services.config.registrar,
      nodeName: services.config.nodeName,
      log: services.log.child({ component: 'registrar' }),
      push: services.push,
      registrations: services.metrics.registrations,
      ...(services.messageQueue ? { messageQueue: services.messageQueue } : {}),
    }),
  ];
}

/**
 * MESSAGE: admission, the sender's digest (407), then the relay to the addressed subscriber's devices,
 * sleeping apps woken by push first, or the queue when none is registered (handlers/message.ts).
 */
export function messageChain(
  services: SipCoreServices,
  deps: Omit<MessageDeps, 'directory' | 'location' | 'log'>,
): Middleware[] {
  const relayDeps = services.pbxFront && {
    ...services.pbxFront,
    directory: services.directory,
    bans: services.bans,
    nodeName: services.config.nodeName,
    log: services.log.child({ component: 'pbx-front' }),
  };
  return [
    ...admission(services),
    ...(relayDeps ? [relayMessage(relayDeps)] : []),
    authenticate(services, CALLER),
    messageHandler({
      ...deps,
      ...(relayDeps ? { toPbx: messageToPbx(relayDeps) } : {}),
      directory: services.directory,
      location: services.location,
      log: services.log.child({ component: 'message' }),
    }),
  ];
}

/**
 * SUBSCRIBE outside a dialog (presence, dialog): admission, the watcher's digest (407), then the
 * notifier (handlers/subscribe.ts). Refreshes inside the subscription's dialog go to that dialog.
 */
export function subscribeChain(
  services: SipCoreServices,
  deps: Pick<SubscribeDeps, 'srf' | 'presence'>,
): Middleware[] {
  const front = services.pbxFront;
  return [
    ...admission(services),
    ...(front?.subscriptions
      ? [
          relaySubscribe({
            ...front,
            srf: front.subscriptions,
            directory: services.directory,
            bans: services.bans,
            log: services.log.child({ component: 'pbx-front' }),
          }),
        ]
      : []),
    authenticate(services, CALLER),
    subscribeHandler({
      ...deps,
      directory: services.directory,
      log: services.log.child({ component: 'presence' }),
    }),
  ];
}

/**
 * NOTIFY outside any dialog: admission, then a fronted PBX's unsolicited NOTIFY (message-summary) to
 * one of its phones (pbx/notify-relay.ts); anything else belongs to no subscription of ours (481,
 * RFC 6665 §4.1.3). NOTIFYs of a subscription go to its dialog, not here.
 */
export function notifyChain(services: SipCoreServices): Middleware[] {
  const front = services.pbxFront;
  return [
    ...admission(services),
    ...(front
      ? [
          relayNotify({
            ...front,
            directory: services.directory,
            nodeName: services.config.nodeName,
            log: services.log.child({ component: 'pbx-front' }),
          }),
        ]
      : []),
    (_req, res) => res.send(481, 'Subscription Does Not Exist'),
  ];
}

/** PUBLISH of a device's presence (RFC 3903): admission, the publisher's digest (407), then the store. */
export function publishChain(services: SipCoreServices, deps: Pick<SubscribeDeps, 'presence'>): Middleware[] {
  return [
    ...admission(services),
    authenticate(services, CALLER),
    publishHandler({ presence: deps.presence, log: services.log.child({ component: 'presence' }) }),
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
  gateways: GatewayCredentials;
  /** The gateways' health checks: LCR skips a gateway that is down. */
  health?: GatewayHealthView;
  calls: ActiveCalls;
  forwards: CallForwards;
  huntGroups?: HuntGroups;
  numbering?: NumberingIndex;
  callsConfig: CallsConfig;
  /** RFC 8599 wake-ups of push devices; unset: they are rung like any other. */
  push?: DeviceWaker;
  /** The connected engine's traits (default: ours). */
  engine?: EngineTraits;
  /** Header rules, topology hiding and peer limits (docs/sbc.md). */
  sbc?: SbcIndex;
  /** Customers' routing plans, margin protection and credit limits (docs/billing.md). */
  wholesale?: InviteDeps['wholesale'];
  /** Devices registered on other nodes are reached through them; unset: one node. */
  cluster?: ClusterRoutes | undefined;
  /** Voicemail boxes and their media endpoint (docs/pbx.md#voicemail). */
  voicemail?: Voicemail;
  /** Prepaid credit and spend limits (calls/credit.ts). */
  credit?: CallCredit;
  /** Call recording (docs/pbx.md). */
  recorder?: CallRecorder;
  /** Auto-attendants (docs/pbx.md#auto-attendant). */
  attendants?: AttendantMedia;
  /** The relay's DTMF feed (docs/sbc.md, DTMF interworking); unset: no RFC 4733 key becomes an INFO. */
  dtmfFeed?: DtmfFeed;
}

/**
 * INVITE: admission, caller identity (trusted peer or digest 407), then the call's own stages:
 * classify, resolve, admit, present, connect (calls/stages/).
 */
export function inviteChain(services: SipCoreServices, deps: InviteChainDeps): Middleware[] {
  return [
    ...admission(services),
    nodeCapacity(deps.calls, deps.callsConfig),
    ...(services.pbxFront
      ? [
          frontCall({
            ...deps,
            calls: deps.calls,
            config: deps.callsConfig,
            directory: services.directory,
            tokens: services.pbxFront.tokens,
            nodeName: services.config.nodeName,
            bans: services.bans,
            log: services.log.child({ component: 'pbx-front' }),
          }),
        ]
      : []),
    authenticate(services, CALLER),
    ...inviteStages({
      srf: deps.srf,
      media: deps.media,
      cdr: deps.cdr,
      directory: services.directory,
      forwards: deps.forwards,
      huntGroups: deps.huntGroups,
      location: services.location,
      gateways: deps.gateways,
      health: deps.health,
      calls: deps.calls,
      numbering: deps.numbering,
      config: deps.callsConfig,
      ...(deps.engine ? { engine: deps.engine } : {}),
      push: deps.push,
      sbc: deps.sbc,
      wholesale: deps.wholesale,
      cluster: deps.cluster,
      voicemail: deps.voicemail,
      credit: deps.credit,
      recorder: deps.recorder,
      attendants: deps.attendants,
      dtmfFeed: deps.dtmfFeed,
      log: services.log.child({ component: 'calls' }),
    }),
  ];
}

/**
 * The INVITE chain's stages up to the caller's identity, run in the engine's process on a new INVITE
 * that carries no credentials (sip/local-engine.ts `gateInvites`): what they answer (the 407 challenge
 * that starts nearly every call, a ban, a scanner, a malformed request, a foreign domain) is answered
 * there, without the drachtio protocol; a request they let through (a trusted source, which needs no
 * digest) is passed on and meets the whole INVITE chain in the app. A pass-on counts nothing twice:
 * only trusted sources pass uncredentialed, and they are exempt from the rate limit and bans. A
 * fronted PBX's domain never reaches it: its calls are relayed before our digest (pbx/front-call.ts).
 */
export function inviteGateChain(
  services: SipCoreServices,
  capacity: Pick<InviteChainDeps, 'calls' | 'callsConfig'>,
): Middleware[] {
  return [
    ...admission(services),
    nodeCapacity(capacity.calls, capacity.callsConfig),
    authenticate(services, CALLER),
  ];
}

/**
 * The one adapter of every method: a view of drachtio-srf's request and response for the chain
 * (drachtio-srf's Request has every member SrfRequestLike names; its typings omit some).
 */
export function requestView(req: Srf.SrfRequest, res: Srf.SrfResponse): RequestView {
  return new RequestView(req as unknown as SrfRequestLike, { req, res });
}

export function asSipResponse(res: Srf.SrfResponse, engine: EngineTraits): SipResponse {
  return new EngineResponse(res, engine);
}

/** A class, not an object with an arrow: made per request, where closures cost (see chain.ts). */
class EngineResponse implements SipResponse {
  constructor(
    private readonly res: Srf.SrfResponse,
    private readonly engine: EngineTraits,
  ) {}

  send(status: number, reason?: string, options?: SendOptions): void {
    this.res.send(status, reason ?? '', forEngine(options ?? {}, this.engine.replyMode));
  }
}
