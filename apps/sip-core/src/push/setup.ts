import type { PrismaClient } from '@switchboard/db';
import { liveGauge, METRIC_NAMES, type MetricsRegistry, pushMetrics } from '@switchboard/metrics';
import {
  loadCredentialsKey,
  PUSH_PROVIDERS,
  PushCredentialStore,
  type PushEndpoints,
  PushRegistrations,
  PushService,
  pushEndpointsFromEnv,
  recordResultIn,
} from '@switchboard/push';
import type { Logger } from 'pino';
import { DEFAULT_FLOW_LIFETIME_MS, type DeviceWaker } from '../calls/devices.ts';
import type { Binding } from '../location/binding.ts';
import type { LocationService } from '../location/location-service.ts';
import type { RegistrarPush } from './contact-push.ts';
import { PushRefresher } from './refresher.ts';

/** Push settings of sip-core; every field has a default. */
export interface SipCorePushOptions {
  /** Push service endpoints; default from `PUSH_APNS_URL`, `PUSH_APNS_SANDBOX_URL`, `PUSH_FCM_URL`, `PUSH_FCM_TOKEN_URL`. */
  endpoints?: Partial<PushEndpoints>;
  /** Trusted CA (PEM) for the push services instead of the system store (tests). */
  ca?: string;
  /**
   * Key sealing the credentials; default `PUSH_CREDENTIALS_KEY`, else the key file in `dataDir`
   * (`DATA_DIR`, `./data`), read when the first credentials are.
   */
  credentialsKey?: Buffer;
  dataDir?: string;
  /** `+sip.pnsreg`: seconds before expiry the refresh push goes out (at most half the interval); 120. */
  refreshLeadSeconds?: number;
  /** Milliseconds between scans for bindings due for a refresh push; 5000. */
  refreshScanMs?: number;
  /**
   * Milliseconds after its last REGISTER a push binding's flow counts as live: a call to it older
   * than this wakes the device by push first (RFC 8599 §7); 30000.
   */
  flowLifetimeMs?: number;
}

export interface SipCorePush {
  service: PushService;
  /** What the INVITE stages need to wake a device for a call. */
  waker: DeviceWaker;
  registrations: PushRegistrations<Binding>;
  store: PushCredentialStore;
  registrar: RegistrarPush;
  refresher: PushRefresher;
  /** Detaches the gauge of held requests from the registry. */
  close(): Promise<void>;
}

/**
 * The push side of sip-core: credentials from the database, the APNs/FCM service (dead device
 * tokens remove their binding; each result is stored with the binding), the registrar's view, the
 * waiters for woken devices and the refresh pushes.
 */
export function createPush(
  options: SipCorePushOptions,
  deps: {
    prisma: PrismaClient;
    location: LocationService;
    nodeName: string;
    tokenSecret: string;
    log: Logger;
    metrics: MetricsRegistry;
  },
): SipCorePush {
  const metrics = pushMetrics(deps.metrics);
  const log = deps.log.child({ component: 'push' });
  let key = options.credentialsKey;
  const store = new PushCredentialStore(
    deps.prisma,
    () => {
      key ??= loadCredentialsKey({ dataDir: options.dataDir ?? process.env.DATA_DIR ?? './data' });
      return key;
    },
    log,
  );
  const service = new PushService({
    credentials: store,
    endpoints: { ...pushEndpointsFromEnv(), ...options.endpoints },
    ...(options.ca ? { ca: options.ca } : {}),
    tokenSecret: deps.tokenSecret,
    log,
    onResult: recordResultIn(deps.prisma),
    // APNs 410 / FCM 404: the app is gone from the device; its binding can never be woken again.
    onUnregistered: (binding) => deps.location.remove(binding.aor, binding.bindingKey),
    countIn: metrics.notifications,
  });
  const registrations = new PushRegistrations<Binding>();
  const detachGauge = liveGauge(
    deps.metrics,
    METRIC_NAMES.pushWaitsActive,
    'Calls and messages held now for an app woken by push',
    [],
    () => registrations.waiting,
  );
  // A device woken by a push may register through another node: the change feed brings its
  // binding here, where a call may be holding for it.
  deps.location.onRegisteredElsewhere((binding) => {
    if (binding.pnPrid !== null) registrations.registered(binding);
  });
  const registrar: RegistrarPush = {
    refreshLeadSeconds: options.refreshLeadSeconds ?? 120,
    async providers(domain) {
      const found = await Promise.all(PUSH_PROVIDERS.map((provider) => store.get(domain, provider)));
      return PUSH_PROVIDERS.filter((_, index) => found[index] !== undefined);
    },
    registered: (binding) => registrations.registered(binding as Binding),
  };
  const refresher = new PushRefresher(deps.location, service, {
    nodeName: deps.nodeName,
    intervalMs: options.refreshScanMs ?? 5000,
    log,
  });
  return {
    service,
    waker: {
      service,
      registrations,
      flowLifetimeMs: options.flowLifetimeMs ?? DEFAULT_FLOW_LIFETIME_MS,
      log: log.child({ component: 'wake' }),
      waits: metrics.waits,
    },
    registrations,
    store,
    registrar,
    refresher,
    async close() {
      await refresher.stop();
      service.close();
      detachGauge();
    },
  };
}
