/** Push notification services a device can name in `pn-provider` (RFC 8599). */
export type PushProviderName = 'apns' | 'fcm';

export const PUSH_PROVIDERS: readonly PushProviderName[] = ['apns', 'fcm'];

export function isPushProvider(value: string): value is PushProviderName {
  return (PUSH_PROVIDERS as readonly string[]).includes(value);
}

/** The RFC 8599 parameters of a binding, as the registrar stores them. */
export interface PushBinding {
  /** Normalised `sip:user@domain`; the domain selects the credentials. */
  aor: string;
  bindingKey: string;
  pnProvider: string | null;
  pnPrid: string | null;
  pnParam: string | null;
}

/** What a push service made of one notification. */
export type PushOutcome =
  /** Accepted by the push service for delivery. */
  | 'delivered'
  /** The device token is no longer valid (APNs 410, FCM 404 UNREGISTERED): the binding is useless. */
  | 'unregistered'
  /** The service asked us to slow down (429); nothing is sent to this target before `retryAfterMs`. */
  | 'rate_limited'
  /** The service refused this notification (bad token, topic, payload): sending it again will not help. */
  | 'rejected'
  /** No credentials, no connection, a server error: may work later. */
  | 'failed';

export interface PushResult {
  outcome: PushOutcome;
  provider: PushProviderName | null;
  /** HTTP status of the push service, when it answered. */
  status?: number;
  /** The service's reason (APNs `reason`, FCM `errorCode`/`status`) or what went wrong locally. */
  reason?: string;
  /** For `rate_limited`: milliseconds until the target may be pushed again. */
  retryAfterMs?: number;
  /** The service's id of the notification (`apns-id`, FCM message name). */
  id?: string;
}

/** One notification for a device: its token, the app it is for, and the data. */
export interface PushMessage {
  /** `pn-prid`: the APNs device token or the FCM registration token. */
  deviceToken: string;
  /** `pn-param`: APNs `<team>.<bundle>.voip`, FCM the project id; may be absent. */
  param: string | null;
  /** Flat string map (FCM data messages carry strings only; APNs gets the same as JSON). */
  data: Record<string, string>;
}
