import { randomUUID } from 'node:crypto';
import type { S3Settings } from '@switchboard/config';
import {
  CALL_CONTROL_CHANNEL,
  CALL_STATES_CHANNEL,
  CHANGES_CHANNEL,
  type Database,
  MESSAGES_CHANNEL,
  type PrismaClient,
  PUBLICATIONS_CHANNEL,
  RATED_CHANNEL,
} from '@switchboard/db';
import { type DtmfFeed, type MediaRelay, NullMedia } from '@switchboard/media';
import { createMetricsRegistry, type MetricsRegistry } from '@switchboard/metrics';
import { followDatabase, type IndexFollower, NumberingIndex } from '@switchboard/numbering';
import { loadCredentialsKey } from '@switchboard/push';
import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { RateLimiter } from './access/rate-limiter.ts';
import { AttendantMedia } from './attendant/attendant-media.ts';
import { ActiveCalls } from './calls/active-calls.ts';
import { Attendants } from './calls/attendants.ts';
import { type CallCounters, InMemoryCallCounters } from './calls/call-counters.ts';
import { CallForwards } from './calls/call-forwards.ts';
import type { ActiveCallInfo } from './calls/call-types.ts';
import { type CallsConfig, DEFAULT_CALLS } from './calls/calls-config.ts';
import { ClusterRoutes } from './calls/cluster-route.ts';
import type { CallCredit } from './calls/credit.ts';
import { earlyInfoHandler } from './calls/early-info.ts';
import { GatewayCredentials } from './calls/gateway-credentials.ts';
import { HuntGroups } from './calls/hunt-groups.ts';
import { RedisCallCounters } from './calls/redis-call-counters.ts';
import { type NodeCall, SharedCalls } from './calls/shared-calls.ts';
import { CdrWriter } from './cdr/cdr-writer.ts';
import { chain } from './chain.ts';
import {
  asSipResponse,
  createServices,
  inviteChain,
  inviteGateChain,
  messageChain,
  notifyChain,
  optionsChain,
  publishChain,
  registerChain,
  requestView,
  subscribeChain,
} from './chains.ts';
import {
  cdrNodeName,
  isClustered,
  resolveConfig,
  type SipCoreConfig,
  type SipCoreOptions,
} from './config.ts';
import type { Directory } from './directory/directory.ts';
import { EarlyChanges } from './early-changes.ts';
import type { MessageRequester } from './handlers/message.ts';
import type { SubscriptionAcceptor } from './handlers/subscribe.ts';
import type { Binding } from './location/binding.ts';
import { type LocationService, REGISTRATIONS_CHANNEL } from './location/location-service.ts';
import {
  configureMessageLimiter,
  DEFAULT_MESSAGES,
  type MessagesConfig,
} from './messages/messages-config.ts';
import { MessageQueue } from './messages/queue.ts';
import { MessageStore } from './messages/store.ts';
import { sipCoreGauges } from './metrics.ts';
import { NatKeepalive } from './nat/keepalive.ts';
import { EngineAddresses, FlowTokens } from './pbx/fronted-flows.ts';
import type { RegisterRequester } from './pbx/register-relay.ts';
import type { SubscriptionRelaySrf } from './pbx/subscribe-relay.ts';
import { PresenceService, type PresenceStatus } from './presence/presence-service.ts';
import { SharedPublications } from './presence/shared-publications.ts';
import { createPush, type SipCorePush, type SipCorePushOptions } from './push/setup.ts';
import { registerPushStatusCode } from './push/status-code.ts';
import { CallRecorder, type RecordingOptions, recordingStorage } from './recording/call-recorder.ts';
import { startRetention } from './recording/retention.ts';
import { SbcIndex } from './sbc/sbc-index.ts';
import { LiveSettings } from './settings.ts';
import { type EngineTraits, engineTraits, OUR_ENGINE } from './sip/engine-traits.ts';
import {
  gateInvites,
  type LocalEngine,
  LocalResponse,
  localRequestView,
  passOnAfter,
} from './sip/local-engine.ts';
import { requestFinal, type SrfRequester } from './sip/srf-request.ts';
import { collectStartupGarbage } from './startup-garbage.ts';
import { callControlHandler, tableChangeHandler } from './table-changes.ts';
import type { OutboundRequester } from './trunks/register-client.ts';
import { TrunkManager, type TrunkOptions } from './trunks/trunks.ts';
import { voicemailMailer } from './voicemail/mail.ts';
import { VoicemailStore } from './voicemail/store.ts';
import { UnsolicitedMwi } from './voicemail/unsolicited-mwi.ts';
import { Voicemail } from './voicemail/voicemail.ts';
import { WholesaleIndex } from './wholesale/wholesale-index.ts';

export {
  createServices,
  type InviteChainDeps,
  inviteChain,
  optionsChain,
  registerChain,
  type SipCoreServices,
} from './chains.ts';
export type { RecordingOptions } from './recording/call-recorder.ts';
export { tableChangeHandler } from './table-changes.ts';

export interface SipCoreDeps {
  prisma: PrismaClient;
  /**
   * The same database `prisma` talks to: its change feed (`onChange`), and its driver (`sql`) for the
   * CDR writer's batched statements.
   */
  db: Pick<Database, 'onChange' | 'sql'>;
  logger: Logger;
  /** Media relay anchoring every call (from `resolveMediaConfig`); default: no anchoring (NullMedia). */
  media?: MediaRelay;
  /**
   * rtpengine's DTMF feed for this process (`--dtmf-log-dest` points at it): the caller's RFC 4733
   * keys become SIP INFO towards a peer whose policy says `dtmfInfo`; default: none.
   */
  dtmfFeed?: DtmfFeed;
  /** Call handling settings (ring timeout, duration cap). */
  calls?: Partial<CallsConfig>;
  /** Instant message limits (size, rate per sender); the `settings` table may change them. */
  messages?: Partial<MessagesConfig>;
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
  /** Trunk registration and gateway health check timing (lease, answer timeout, back-off). */
  trunks?: Partial<TrunkOptions>;
  /**
   * Voicemail (docs/pbx.md#voicemail); unset: off (the launcher and main.ts turn it on with the data
   * directory). Missing fields come from the environment.
   */
  voicemail?: Partial<VoicemailSettings>;
  /**
   * Prepaid credit and spend limits of calls to the PSTN (docs/billing.md; the launcher gives the
   * billing code's); default: calls are not credit-checked.
   */
  credit?: CallCredit;
  /**
   * Call recording (docs/pbx.md): where the relay's captures are and where recordings go; unset: no call
   * is recorded, whatever the customers' settings.
   */
  recording?: RecordingOptions & { retentionIntervalMs?: number };
  /**
   * The engine runs in this process (the all-in-one launcher, the benches' one-process layout): sip-core
   * reaches it through an in-process link (the engine's `linkInProcess`) instead of its admin socket, same
   * messages, no socket, no framing; `drachtio` still names the secret. Default: the socket at
   * `drachtio`'s host and port.
   */
  engineLink?: () => EngineLinkEnd;
  /**
   * The engine runs in this process and this is the only worker: REGISTER comes straight from it as it
   * parsed it, through the same chain, with no drachtio message either way (sip/local-engine.ts). The
   * other methods still come over `engineLink` or the socket.
   */
  localEngine?: LocalEngine;
}

/** The app's end of an in-process link to the engine, as our patched drachtio-srf takes it (`socket`). */
export type EngineLinkEnd = NodeJS.EventEmitter & { writeMessage(payload: string): void };

export interface VoicemailSettings {
  /** Recordings, greetings and prompts live under it (default `DATA_DIR`, else `./data`). */
  dataDir: string;
  /** Recordings and greetings in this bucket (S3_* settings) instead of under `dataDir`. */
  objectStorage?: S3Settings | undefined;
  /** Address the media endpoint's RTP sockets bind to; the relay must reach it (default 127.0.0.1). */
  mediaAddress: string;
  rtpPorts?: { min: number; max: number };
  /** What a subscriber dials for its own box (default `*98`). */
  accessCode: string;
  /** Voicemail to e-mail (default `SMTP_URL`, `MAIL_FROM`); unset: no e-mail. */
  smtpUrl?: string | undefined;
  mailFrom?: string | undefined;
}

/** Voicemail from the given settings and the environment; undefined when turned off. */
async function startVoicemail(
  prisma: PrismaClient,
  settings: SipCoreDeps['voicemail'],
  log: Logger,
): Promise<Voicemail | undefined> {
  if (!settings) return undefined;
  const smtpUrl = settings.smtpUrl ?? (process.env.SMTP_URL?.trim() || undefined);
  const voicemailLog = log.child({ component: 'voicemail' });
  const voicemail = new Voicemail(new VoicemailStore(prisma), {
    dataDir: settings.dataDir ?? process.env.DATA_DIR ?? './data',
    objectStorage: settings.objectStorage,
    mediaAddress: settings.mediaAddress ?? '127.0.0.1',
    rtpPorts: settings.rtpPorts,
    accessCode: settings.accessCode ?? '*98',
    mailer: smtpUrl
      ? voicemailMailer(smtpUrl, settings.mailFrom ?? process.env.MAIL_FROM, voicemailLog)
      : undefined,
    log: voicemailLog,
  });
  await voicemail.start();
  return voicemail;
}

export interface RunningSipCore {
  config: SipCoreConfig;
  location: LocationService;
  /** Push service, waiters for woken devices and the refresh pushes (RFC 8599). */
  push: SipCorePush;
  /** The calls in progress in this process. */
  activeCalls(): ActiveCallInfo[];
  /**
   * The calls in progress in this process and, when clustered, those the other workers and nodes
   * announce (calls/shared-calls.ts), each with the worker or node handling it: the live-calls API.
   */
  liveCalls(): NodeCall[];
  /** The presence notifier: subscriptions and publications of this node (docs/presence.md). */
  presence: PresenceService;
  /** Voicemail boxes and their media; undefined when turned off. */
  voicemail: Voicemail | undefined;
  /** Offline, online (registered) or in a call, as this node sees the subscriber. */
  presenceStatus(subscriberId: string, aor: string): PresenceStatus;
  /**
   * The in-memory views a call is answered from (subscribers with their limits, gateway credentials,
   * hunt groups),
   * read-only: tests wait on them to see a change arrive through the change feed.
   */
  caches: {
    directory: Pick<Directory, 'subscriberById'>;
    gateways: Pick<GatewayCredentials, 'forGateways'>;
    huntGroups: Pick<HuntGroups, 'find'>;
    /** Auto-attendants (on with voicemail). */
    attendants?: Pick<Attendants, 'find'>;
  };
  /** Trunk registrations and gateway health checks of this node (docs/sbc.md). */
  trunks: TrunkManager;
  close(): Promise<void>;
}

/**
 * The concurrent-call counts: in Redis when REDIS_URL names one (every worker and node shares them;
 * start-up waits until it answers), else in this process.
 */
async function callCounters(config: SipCoreConfig, log: Logger): Promise<CallCounters> {
  if (!config.redis) return new InMemoryCallCounters();
  const counters = new RedisCallCounters({
    url: config.redis.url,
    ...(config.redis.keyPrefix ? { keyPrefix: config.redis.keyPrefix } : {}),
    ...(config.redis.callLeaseMs ? { leaseMs: config.redis.callLeaseMs } : {}),
    log: log.child({ component: 'call-counters' }),
  });
  try {
    await counters.ready();
  } catch (error) {
    await counters.close();
    throw error;
  }
  return counters;
}

/** Sends a keep-alive OPTIONS to where the device's packets come from; any answer but 408 counts. */
function keepaliveSender(srf: OutboundRequester, log: Logger): (binding: Binding) => Promise<boolean> {
  return (binding) =>
    requestFinal(
      srf,
      binding.contactUri,
      {
        method: 'OPTIONS',
        proxy: `sip:${binding.receivedAddress}:${binding.receivedPort};transport=udp`,
        headers: { 'Max-Forwards': '70' },
      },
      40_000,
      'no answer to the keep-alive',
    ).then(
      (res) => res.status !== 408,
      (error: unknown) => {
        log.debug({ err: error, contact: binding.contactUri }, 'keep-alive failed');
        return false;
      },
    );
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
  const services = createServices(
    config,
    { prisma: deps.prisma, sql: deps.db.sql },
    log,
    numbering,
    registry,
  );
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
  const huntGroups = new HuntGroups(deps.prisma, log.child({ component: 'hunt-groups' }));
  // The platform's sealing key (the push credentials key), for the gateways' sealed passwords.
  let key = deps.push?.credentialsKey;
  const sealingKey = (): Buffer => {
    key ??= loadCredentialsKey({ dataDir: deps.push?.dataDir ?? process.env.DATA_DIR ?? './data' });
    return key;
  };
  const gateways = new GatewayCredentials(deps.prisma, log.child({ component: 'gateways' }), sealingKey);
  const sbc = new SbcIndex(deps.prisma, log.child({ component: 'sbc' }));
  const callsConfig: CallsConfig = { ...DEFAULT_CALLS, ...deps.calls };
  const messagesConfig: MessagesConfig = { ...DEFAULT_MESSAGES, ...deps.messages };
  const messageLimiter = new RateLimiter(0, 1);
  configureMessageLimiter(messageLimiter, messagesConfig);
  const settings = new LiveSettings(
    deps.prisma,
    { config, calls: callsConfig, limiter: services.limiter, bans, messages: messagesConfig, messageLimiter },
    new Set(deps.fixedSettings ?? []),
    log.child({ component: 'settings' }),
  );
  // Followed before the loads, applied once its handler exists (early-changes.ts).
  const earlyChanges = new EarlyChanges();
  const stopChanges = await deps.db.onChange(CHANGES_CHANNEL, earlyChanges.take, {
    onReconnect: earlyChanges.reconnected,
  });
  await Promise.all([
    directory.load(),
    bans.load(),
    location.load(),
    forwards.load(),
    huntGroups.load(),
    gateways.load(),
    settings.load(),
    sbc.load(),
  ]);
  const reloadAll = (): void => {
    push.store.forget();
    Promise.all([
      directory.load(),
      bans.load(),
      forwards.load(),
      huntGroups.load(),
      attendants?.onChanged(),
      gateways.load(),
      settings.load(),
      trunks.load(),
      sbc.load(),
    ]).catch((error: unknown) => log.error({ err: error }, 'reload after change feed reconnect failed'));
  };
  const srf = new Srf();
  const trunks = new TrunkManager({
    prisma: deps.prisma,
    srf: srf as unknown as OutboundRequester,
    node: config.nodeName,
    sealingKey,
    log: log.child({ component: 'trunks' }),
    ...(deps.trunks ? { options: deps.trunks } : {}),
  });
  services.trunkContacts = trunks;
  // Carrier customers' trunks, routing plans, margin protection and credit limits (docs/billing.md).
  const wholesale = new WholesaleIndex(deps.prisma, log.child({ component: 'wholesale' }));
  services.customerTrunks = wholesale;
  const voicemail = await startVoicemail(deps.prisma, deps.voicemail, log);
  // The auto-attendants play on the same media endpoint: on with voicemail.
  const attendants = deps.voicemail
    ? new AttendantMedia(new Attendants(deps.prisma, log.child({ component: 'attendants' })), {
        dataDir: deps.voicemail.dataDir ?? process.env.DATA_DIR ?? './data',
        mediaAddress: deps.voicemail.mediaAddress ?? '127.0.0.1',
        rtpPorts: deps.voicemail.rtpPorts,
        log: log.child({ component: 'attendants' }),
      })
    : undefined;
  await attendants?.start();
  // Set once presence exists (below): a box's change notifies its message-summary watchers.
  let mailboxChanged: (subscriberId: string) => void = () => {};
  const onTableChange = tableChangeHandler({
    ...services,
    ...(voicemail
      ? {
          voicemail: {
            onChanged: async (id: string | null) => {
              await voicemail.store.onChanged(id);
              if (id) mailboxChanged(id);
            },
          },
        }
      : {}),
    forwards,
    huntGroups,
    ...(attendants ? { attendants } : {}),
    gateways,
    trunks,
    pushCredentials: push.store,
    settings,
    sbc,
  });
  earlyChanges.attach(onTableChange, reloadAll);
  const stopFeeds = [
    stopChanges,
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

  // Until connected nothing is answered; ours is assumed, then what the engine says it is.
  const engine: EngineTraits = { ...OUR_ENGINE };
  const messageStore = new MessageStore(deps.prisma);
  // SIP_CLUSTER_NODES: devices registered on other nodes are reached through them.
  const cluster =
    config.clusterNodes.length > 0 ? new ClusterRoutes(config.nodeName, config.clusterNodes) : undefined;
  const messageQueue = new MessageQueue({
    srf: srf as unknown as MessageRequester,
    store: messageStore,
    cluster,
    location,
    log: log.child({ component: 'message-queue' }),
  });
  services.messageQueue = messageQueue;
  const engineAddresses = new EngineAddresses();
  services.pbxFront = {
    // The sealing key, not the digest secret: it is kept across restarts and shared by every node.
    tokens: new FlowTokens(sealingKey),
    engine: engineAddresses,
    srf: srf as unknown as RegisterRequester,
    subscriptions: srf as unknown as SubscriptionRelaySrf,
  };
  stopFeeds.push(
    await deps.db.onChange(MESSAGES_CHANNEL, (recipientId) => messageQueue.noteQueued(recipientId), {
      onReconnect: () => {
        messageQueue
          .load()
          .catch((error: unknown) => log.error({ err: error }, 'queued messages reload failed'));
      },
    }),
  );
  // After subscribing: a message queued between the read and the subscription is not missed.
  await messageQueue.load();

  const register = chain(registerChain(services), log);
  const options_ = chain(optionsChain(services), log);
  srf.use('register', (req, res) => register(requestView(req, res), asSipResponse(res, engine)));
  srf.use('options', (req, res) => options_(requestView(req, res), asSipResponse(res, engine)));
  const media = deps.media ?? new NullMedia(log.child({ component: 'media' }));
  const cdr = new CdrWriter(
    { prisma: deps.prisma, sql: deps.db.sql },
    cdrNodeName(config),
    log.child({ component: 'cdr' }),
    services.metrics,
  );
  await cdr.reconcile();
  cdr.startHeartbeat();
  const recorder = deps.recording
    ? new CallRecorder(
        deps.prisma,
        directory,
        deps.recording,
        sealingKey,
        log.child({ component: 'recording' }),
        deps.dtmfFeed,
      )
    : undefined;
  if (recorder && deps.recording) {
    recorder
      .prepare()
      .catch((error: unknown) => log.warn({ err: error }, 'recording announcement not prepared'));
  }
  const calls = new ActiveCalls(await callCounters(config, log), config.worker.count);
  calls.countRefusalsIn(services.metrics.callsRefused);
  // Several workers or nodes: each announces its calls and presence publications, so presence and
  // the live list see them all.
  const origin = `${cdrNodeName(config)}#${randomUUID()}`;
  const sharedCalls = isClustered(config)
    ? new SharedCalls({
        prisma: deps.prisma,
        origin,
        node: cdrNodeName(config),
        localCalls: () => calls.list(),
        log: log.child({ component: 'shared-calls' }),
      })
    : undefined;
  if (sharedCalls) {
    calls.onChange((call) => sharedCalls.localChanged(call));
    stopFeeds.push(await deps.db.onChange(CALL_STATES_CHANNEL, (payload) => sharedCalls.heard(payload)));
  }
  const everyCall = (): ActiveCallInfo[] =>
    sharedCalls ? [...calls.list(), ...sharedCalls.list()] : calls.list();
  const detachGauges = sipCoreGauges(registry, { calls, location, media });
  stopFeeds.push(await deps.db.onChange(CALL_CONTROL_CHANNEL, callControlHandler(calls, log)));
  stopFeeds.push(await wholesale.follow(deps.db, RATED_CHANNEL));
  const invite = chain(
    inviteChain(services, {
      srf,
      media,
      cdr,
      gateways,
      health: trunks,
      calls,
      forwards,
      huntGroups,
      numbering,
      callsConfig,
      push: push.waker,
      engine,
      sbc,
      wholesale,
      cluster,
      ...(voicemail ? { voicemail } : {}),
      ...(attendants ? { attendants } : {}),
      ...(deps.credit ? { credit: deps.credit } : {}),
      ...(recorder ? { recorder } : {}),
      ...(deps.dtmfFeed ? { dtmfFeed: deps.dtmfFeed } : {}),
    }),
    log,
  );
  srf.use('invite', (req, res) => invite(requestView(req, res), asSipResponse(res, engine)));
  srf.use('info', earlyInfoHandler(calls));
  const message = chain(
    messageChain(services, {
      srf: srf as unknown as MessageRequester,
      push: push.waker,
      pushWaitTimeout: () => callsConfig.pushWaitTimeout,
      numbering,
      store: messageStore,
      config: messagesConfig,
      limiter: messageLimiter,
      cluster,
    }),
    log,
  );
  srf.use('message', (req, res) => message(requestView(req, res), asSipResponse(res, engine)));
  const sharedPublications = isClustered(config)
    ? new SharedPublications(deps.prisma, origin, log.child({ component: 'shared-publications' }))
    : undefined;
  const presence = new PresenceService({
    ...(sharedPublications ? { publications: sharedPublications } : {}),
    sources: {
      bindings: (aor) => location.lookup(aor),
      calls: everyCall,
      ...(voicemail ? { mailbox: (id: string) => voicemail.store.countsOf(id) } : {}),
    },
    config: config.presence,
    log: log.child({ component: 'presence' }),
  });
  location.onChanged((aor) => presence.registrationsChanged(aor));
  if (sharedPublications)
    stopFeeds.push(
      await deps.db.onChange(PUBLICATIONS_CHANNEL, (payload) => {
        const news = sharedPublications.heard(payload);
        if (news) presence.publicationShared(news);
      }),
    );
  // Boxes that ask for it: NOTIFYs to their owners' devices that did not subscribe (the node's first
  // worker sends for the devices this node holds).
  const unsolicitedMwi =
    voicemail && config.worker.index === 1
      ? new UnsolicitedMwi({
          srf: srf as unknown as SrfRequester,
          wanted: async (id) => (await voicemail.store.box(id))?.unsolicitedMwi === true,
          aorOf: (id) => {
            const subscriber = directory.subscriberById(id);
            return subscriber ? `sip:${subscriber.username}@${subscriber.domain}` : undefined;
          },
          bindings: (aor) => location.lookup(aor),
          subscribedFrom: (id) =>
            new Set(
              presence.store.watching(id, 'message-summary').flatMap((s) => (s.source ? [s.source] : [])),
            ),
          counts: (id) => voicemail.store.countsOf(id),
          node: config.nodeName,
          log: log.child({ component: 'mwi' }),
        })
      : undefined;
  mailboxChanged = (id) => {
    presence.mailboxChanged(id);
    unsolicitedMwi
      ?.changed(id)
      .catch((error: unknown) => log.warn({ err: error, subscriberId: id }, 'unsolicited MWI failed'));
  };
  calls.onChange((call) => presence.callChanged(call));
  sharedCalls?.onRemoteChange((call) => presence.callChanged(call));
  const subscribe = chain(
    subscribeChain(services, { srf: srf as unknown as SubscriptionAcceptor, presence }),
    log,
  );
  srf.use('subscribe', (req, res) => subscribe(requestView(req, res), asSipResponse(res, engine)));
  const notify = chain(notifyChain(services), log);
  srf.use('notify', (req, res) => notify(requestView(req, res), asSipResponse(res, engine)));
  const publish = chain(publishChain(services, { presence }), log);
  srf.use('publish', (req, res) => publish(requestView(req, res), asSipResponse(res, engine)));
  srf.on('error', (error: Error) => log.warn({ err: error }, 'engine connection error'));

  await new Promise<void>((resolve, reject) => {
    const onConnect = (error: Error | null, hostport: string, version?: string): void => {
      srf.removeListener('error', onError);
      if (error) {
        reject(error);
        return;
      }
      Object.assign(engine, engineTraits(version));
      engineAddresses.set(hostport);
      const via = deps.engineLink ? 'in-process link' : 'socket';
      log.info({ hostport, version, via, ...engine }, 'connected to the SIP engine');
      resolve();
    };
    const onError = (error: Error): void => {
      srf.removeListener('connect', onConnect);
      reject(error);
    };
    srf.once('connect', onConnect);
    srf.once('error', onError);
    const { host, port, secret } = config.drachtio;
    // `socket` is our drachtio-srf patch's: its types do not know it.
    const linked = deps.engineLink ? { socket: deps.engineLink() } : {};
    srf.connect({ host, port, secret, ...linked } as Parameters<typeof srf.connect>[0]);
  });

  // With several workers the engine balances REGISTER among them over the protocol instead.
  const handBackRegister =
    deps.localEngine && config.worker.count === 1
      ? deps.localEngine.answerLocally('REGISTER', (local) =>
          register(localRequestView(local), new LocalResponse(local)),
        )
      : undefined;
  if (handBackRegister) log.info('REGISTER answered in the engine process, without the drachtio protocol');
  const handBackInvite =
    deps.localEngine && config.worker.count === 1
      ? deps.localEngine.answerLocally(
          'INVITE',
          gateInvites(chain(inviteGateChain(services, { calls, callsConfig }), log, passOnAfter), (domain) =>
            Boolean(directory.upstreamPbx(domain)),
          ),
        )
      : undefined;
  if (handBackInvite)
    log.info('INVITE challenges answered in the engine process, without the drachtio protocol');

  const keepalive = new NatKeepalive(
    location,
    keepaliveSender(srf as unknown as OutboundRequester, log),
    config.nat,
    config.nodeName,
    log.child({ component: 'keepalive' }),
  );
  // The node's timers run once per node: in its first worker (the others hold the same bindings).
  if (config.worker.index === 1) {
    keepalive.start();
    push.refresher.start();
  }
  const stopRetention =
    deps.recording && config.worker.index === 1
      ? startRetention(
          deps.prisma,
          recordingStorage(deps.recording),
          log.child({ component: 'recording' }),
          deps.recording.retentionIntervalMs,
        )
      : () => {};
  // Trunk registrations and health checks share one lease per gateway across nodes and workers.
  await trunks.start();
  collectStartupGarbage(log);

  let closed = false;
  return {
    config,
    location,
    push,
    activeCalls: () => calls.list(),
    liveCalls: () => {
      const node = cdrNodeName(config);
      return [...calls.list().map((call) => ({ ...call, node })), ...(sharedCalls?.list() ?? [])];
    },
    presence,
    voicemail,
    presenceStatus: (subscriberId, aor) => presence.status(subscriberId, aor),
    caches: { directory, gateways, huntGroups, ...(attendants ? { attendants: attendants.attendants } : {}) },
    trunks,
    async close() {
      if (closed) return;
      closed = true;
      handBackRegister?.();
      handBackInvite?.();
      detachGauges();
      stopRetention();
      keepalive.stop();
      await trunks.close();
      presence.close();
      await voicemail?.close();
      await push.close();
      srf.disconnect();
      await cdr.stop();
      sharedCalls?.close();
      await calls.counters.close();
      await Promise.all(stopFeeds.map((stop) => stop()));
      await numberingFollower?.close();
      // Writes the binding changes still waiting behind their answers (write-behind window).
      await Promise.all([location.close(), bans.close(), services.sharedNonceCounts?.close()]);
    },
  };
}
