import type { SrtpPolicy } from '@switchboard/db';
import type { CallInfo, PushBinding, PushRegistrations, PushResult } from '@switchboard/push';
import { wakeAndWait } from '@switchboard/push';
import type { Logger } from 'pino';
import type { Binding } from '../location/binding.ts';
import type { CallTarget, RingTarget } from './call-types.ts';
import { deviceLegProfile } from './leg-profile.ts';
import { bindingTarget } from './plan.ts';

/** Default `flowLifetimeMs`: the NAT keep-alive interval's default and a usual UDP NAT timeout. */
export const DEFAULT_FLOW_LIFETIME_MS = 30_000;

/** What waking a device needs (sip-core's push side, see push/setup.ts). */
export interface DeviceWaker {
  service: { wake(binding: PushBinding, call: CallInfo): Promise<PushResult> };
  registrations: PushRegistrations<Binding>;
  /**
   * How long after its last REGISTER a push binding's flow still counts as live. A suspended app
   * sends nothing: past this its NAT mapping (UDP) or its connection (closed by the OS when the app
   * was suspended) cannot be relied on, so the device is pushed instead of rung.
   */
  flowLifetimeMs: number;
  log: Logger;
  now?: () => number;
  /** `switchboard_push_waits_total`: each wait counted when it ends, by kind and result. */
  waits?: { inc(labels: { kind: string; result: string }): void };
}

/**
 * RFC 8599 §7: a binding with pn-* values whose flow is not known to be live must be woken by a push
 * before a request can reach it. Live = registered within `flowLifetimeMs` (the app is in the
 * foreground, or was just woken); a binding loaded without its registration time counts as old.
 */
export function needsWake(binding: Binding, now: number, flowLifetimeMs: number): boolean {
  if (!binding.pnProvider || !binding.pnPrid) return false;
  return binding.registeredAt === undefined || now - binding.registeredAt >= flowLifetimeMs;
}

/** The Contact URI without its pn-* parameters: the woken device gets the request without them (RFC 8599 §7). */
export function withoutPushParams(contactUri: string): string {
  return contactUri.replace(/;pn-(?:provider|prid|param|purr)(?:=[^;?>]*)?/gi, '');
}

/** One call's wake-ups: the push's content and how long to wait for the device. */
export interface CallWake {
  waker: DeviceWaker;
  call: CallInfo;
  /** Read when the wait starts, so an operator's change applies from the next call on. */
  timeoutMs(): number;
}

/**
 * The targets of a subscriber's devices for one call: each binding rung where it registered from,
 * except push bindings without a live flow, which are woken first (pushed once per call and device)
 * and rung at the contact they register next. `srtp`: the subscriber's media encryption policy, which
 * decides the profile of each device's leg (leg-profile.ts).
 */
export function deviceTargets(
  bindings: Binding[],
  wake?: CallWake,
  srtp: SrtpPolicy = 'optional',
): RingTarget[] {
  const now = wake?.waker.now?.() ?? Date.now();
  return bindings.map((binding) => {
    if (!wake || !needsWake(binding, now, wake.waker.flowLifetimeMs))
      return bindingTarget(binding, deviceLegProfile(binding.transport, srtp));
    return {
      kind: 'wake',
      profile: deviceLegProfile(binding.transport, srtp),
      ready: (signal) => wakeDevice(binding, wake, signal, srtp),
    };
  });
}

/** Push outcomes after which the binding is rung as it is instead (the device was not told). */
const FALL_BACK: ReadonlySet<string> = new Set(['failed', 'rejected', 'rate_limited']);

async function wakeDevice(
  binding: Binding,
  wake: CallWake,
  signal: AbortSignal,
  srtp: SrtpPolicy,
): Promise<CallTarget | undefined> {
  const { waker, call } = wake;
  const timeoutMs = wake.timeoutMs();
  const started = Date.now();
  const outcome = await wakeAndWait(waker.service, waker.registrations, binding, call, { timeoutMs, signal });
  const log = { callId: call.callId, aor: binding.aor, outcome: outcome.result.outcome };
  const counted = (result: string): void => waker.waits?.inc({ kind: call.kind ?? 'call', result });
  if (FALL_BACK.has(outcome.result.outcome)) {
    counted('not_pushed');
    // The push could not be sent (no credentials any more, the service unreachable or holding
    // this device back): the app may still be reachable where it registered, so it is rung there.
    waker.log.warn(log, 'push not sent, ringing the device where it registered');
    return bindingTarget(binding, deviceLegProfile(binding.transport, srtp));
  }
  if (!outcome.binding) {
    counted(
      outcome.result.outcome === 'unregistered' ? 'unregistered' : signal.aborted ? 'cancelled' : 'timed_out',
    );
    waker.log.info(
      { ...log, waitedMs: Date.now() - started, cancelled: signal.aborted },
      'device did not wake for the call',
    );
    return undefined;
  }
  counted('woken');
  waker.log.info({ ...log, waitedMs: Date.now() - started }, 'device woke for the call');
  const woken = outcome.binding;
  return bindingTarget(
    { ...woken, contactUri: withoutPushParams(woken.contactUri) },
    deviceLegProfile(woken.transport, srtp),
  );
}
