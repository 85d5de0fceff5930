import type { Counter, Histogram } from 'prom-client';
import { counter, histogram, type MetricsRegistry } from './registry.ts';

/**
 * Every metric Switchboard exports, by component. Names follow Prometheus conventions (`_total` counters,
 * base units); docs/operations.md and infra/grafana/switchboard.json use exactly these names. Gauges read
 * from live state (calls, bindings, pools) are declared where that state lives, through `liveGauge`, with
 * the names in METRIC_NAMES.
 */
export const METRIC_NAMES = {
  sipRequests: 'switchboard_sip_requests_total',
  sipResponses: 'switchboard_sip_responses_total',
  sipTransactions: 'switchboard_sip_transactions',
  engineApps: 'switchboard_engine_apps',
  hepPackets: 'switchboard_hep_packets_total',
  registrations: 'switchboard_registrations_total',
  registeredAors: 'switchboard_registered_aors',
  registeredDevices: 'switchboard_registered_devices',
  authFailures: 'switchboard_sip_auth_failures_total',
  callsActive: 'switchboard_calls_active',
  callAttempts: 'switchboard_call_attempts_total',
  callAnswers: 'switchboard_call_answers_total',
  callsEnded: 'switchboard_calls_ended_total',
  callsRefused: 'switchboard_calls_refused_total',
  callDuration: 'switchboard_call_duration_seconds',
  rtpengineUp: 'switchboard_rtpengine_up',
  rtpengineSessions: 'switchboard_rtpengine_sessions',
  numberingEntries: 'switchboard_numbering_entries',
  numberingReload: 'switchboard_numbering_reload_seconds',
  dbPoolConnections: 'switchboard_db_pool_connections',
  pushNotifications: 'switchboard_push_notifications_total',
  pushWaits: 'switchboard_push_waits_total',
  pushWaitsActive: 'switchboard_push_waits_active',
} as const;

/** What the engine counts where its transport layer receives and sends a SIP message. */
export interface SipTrafficMetrics {
  /** direction: in | out; method: the request method. */
  requests: Counter<'direction' | 'method'>;
  /** direction: in | out; method: the CSeq method; code: the status code. */
  responses: Counter<'direction' | 'method' | 'code'>;
  /** result: sent | failed. */
  hepPackets: Counter<'result'>;
}

export function sipTrafficMetrics(registry: MetricsRegistry): SipTrafficMetrics {
  return {
    requests: counter(registry, METRIC_NAMES.sipRequests, 'SIP requests received (in) and sent (out)', [
      'direction',
      'method',
    ]),
    responses: counter(
      registry,
      METRIC_NAMES.sipResponses,
      'SIP responses received (in) and sent (out), by CSeq method and status code',
      ['direction', 'method', 'code'],
    ),
    hepPackets: counter(registry, METRIC_NAMES.hepPackets, 'HEP v3 packets sent to the collector', [
      'result',
    ]),
  };
}

/** What sip-core counts: registrations, authentication failures and the life of each call. */
export interface SipCoreMetrics {
  /** result: registered (bindings added or refreshed) | unregistered (none left) | refused | query. */
  registrations: Counter<'result'>;
  /** Digest authentications refused (wrong password, unknown user), each counting toward a ban. */
  authFailures: Counter;
  callAttempts: Counter<'direction'>;
  callAnswers: Counter<'direction'>;
  callsEnded: Counter<'direction' | 'disposition'>;
  /**
   * Calls refused by call admission control. scope: subscriber | customer | gateway | group;
   * limit: concurrent | rate.
   */
  callsRefused: Counter<'scope' | 'limit'>;
  /** Talk time of answered calls. */
  callDuration: Histogram<'direction'>;
}

export function sipCoreMetrics(registry: MetricsRegistry): SipCoreMetrics {
  return {
    registrations: counter(registry, METRIC_NAMES.registrations, 'REGISTER requests answered', ['result']),
    authFailures: counter(
      registry,
      METRIC_NAMES.authFailures,
      'SIP digest authentications refused (wrong credentials, unknown user)',
    ),
    callAttempts: counter(registry, METRIC_NAMES.callAttempts, 'Call attempts started (CDR opened)', [
      'direction',
    ]),
    callAnswers: counter(registry, METRIC_NAMES.callAnswers, 'Call attempts answered', ['direction']),
    callsEnded: counter(registry, METRIC_NAMES.callsEnded, 'Call attempts ended, by disposition', [
      'direction',
      'disposition',
    ]),
    callsRefused: counter(
      registry,
      METRIC_NAMES.callsRefused,
      'Calls refused by a concurrency or call-rate limit, by the limit and what it applies to',
      ['scope', 'limit'],
    ),
    callDuration: histogram(
      registry,
      METRIC_NAMES.callDuration,
      'Talk time of answered calls',
      [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      ['direction'],
    ),
  };
}

/** What the push side counts (RFC 8599): pushes sent and the requests held for a woken app. */
export interface PushMetrics {
  /**
   * provider: apns | fcm | none; purpose: call | refresh | test; result: ok | unregistered (APNs 410,
   * FCM 404) | throttled (429) | error (refused locally, no credentials, the service failing).
   */
  notifications: Counter<'provider' | 'purpose' | 'result'>;
  /**
   * Requests held for a device woken by push, counted when the wait ends. kind: call | message;
   * result: woken (registered in time) | timed_out | cancelled (CANCEL, answered elsewhere) |
   * unregistered (the app is gone) | not_pushed (the push failed: the device is rung where it was).
   */
  waits: Counter<'kind' | 'result'>;
}

export function pushMetrics(registry: MetricsRegistry): PushMetrics {
  return {
    notifications: counter(
      registry,
      METRIC_NAMES.pushNotifications,
      'Push notifications sent, by provider, purpose and result',
      ['provider', 'purpose', 'result'],
    ),
    waits: counter(
      registry,
      METRIC_NAMES.pushWaits,
      'Calls and messages held for an app woken by push, by how the wait ended',
      ['kind', 'result'],
    ),
  };
}

/** The numbering index reloads (each a whole snapshot from the database). */
export function numberingReloadMetric(registry: MetricsRegistry): Histogram {
  return histogram(
    registry,
    METRIC_NAMES.numberingReload,
    'Time to reload the numbering index from the database',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
}
