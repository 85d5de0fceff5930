// Public surface of @switchboard/push.

export { ApnsClient, DEFAULT_APNS_SANDBOX_URL, DEFAULT_APNS_URL } from './apns.ts';
export { PushCounters, pushResultLabel } from './counters.ts';
export {
  type ApnsCredentials,
  apnsCredentials,
  CredentialError,
  type FcmCredentials,
  fcmCredentials,
  joinCredentials,
  type PublicSettings,
  type PushCredentials,
  splitCredentials,
} from './credentials.ts';
export { DEFAULT_FCM_TOKEN_URL, DEFAULT_FCM_URL, FcmClient } from './fcm.ts';
export { Http2Pool } from './http2-pool.ts';
export {
  ANONYMOUS,
  type CallInfo,
  callPayload,
  verifyWakeToken,
  WAKE_TOKEN_TTL_SECONDS,
  wakeToken,
} from './payload.ts';
export {
  CREDENTIALS_KEY_FILE,
  CREDENTIALS_KEY_VARIABLE,
  gatewaySecretContext,
  loadCredentialsKey,
  recordingWebhookSecretContext,
  SealingError,
  seal,
  sealingContext,
  unseal,
} from './sealing.ts';
export {
  DEFAULT_PUSH_ENDPOINTS,
  domainOf,
  type PushEndpoints,
  type PushPurpose,
  PushService,
  type PushServiceOptions,
  pushEndpointsFromEnv,
  recordResultIn,
} from './service.ts';
export { type CredentialSource, PushCredentialStore } from './store.ts';
export {
  isPushProvider,
  PUSH_PROVIDERS,
  type PushBinding,
  type PushMessage,
  type PushOutcome,
  type PushProviderName,
  type PushResult,
} from './types.ts';
export { PushRegistrations, pnsKey, type WakeOutcome, wakeAndWait } from './waiters.ts';
