import type { SipRequest, SipResponse } from '@switchboard/sip';
import type { AppDialog } from './app-dialogs.ts';

/**
 * Subscription dialogs (RFC 6665), kept as drachtio-server keeps them: a 2xx to a SUBSCRIBE, or to a REFER
 * outside a dialog (its implicit subscription, RFC 3515 §2.4.4 / RFC 6665 §4.5.2), creates a dialog whose only
 * usage is the subscription. Such a dialog ends with a NOTIFY carrying `Subscription-State: terminated`
 * (§4.1.3, §4.2.2), never with BYE, or when the subscription expires without being refreshed. A REFER inside
 * an INVITE dialog adds a usage to that dialog, which a BYE still ends.
 */

/** Expiry when neither the 2xx nor the request says (RFC 6665 §4.1.2.1 leaves it to the event package). */
export const DEFAULT_SUBSCRIPTION_SECONDS = 3600;
/**
 * Grace after expiry before the dialog is forgotten: the notifier's final NOTIFY (`terminated;reason=timeout`,
 * §4.2.2) must still find the dialog. 32 s is a non-INVITE transaction's lifetime over UDP (64*T1).
 */
export const EXPIRY_GRACE_SECONDS = 32;

/** A 2xx to SUBSCRIBE, or to REFER outside a dialog, creates a subscription dialog (RFC 6665 §4.1.2.2, §4.2.1). */
export function createsSubscriptionDialog(method: string, status: number, inDialog: boolean): boolean {
  return !inDialog && (method === 'SUBSCRIBE' || method === 'REFER') && status >= 200 && status < 300;
}

/** A 2xx to a SUBSCRIBE or REFER of a subscription dialog starts or renews the subscription (RFC 6665 §4.1.2.2). */
export function renewsSubscription(
  dialog: AppDialog | undefined,
  method: string,
  status: number,
): dialog is AppDialog {
  return (
    dialog?.usage === 'subscription' &&
    (method === 'SUBSCRIBE' || method === 'REFER') &&
    status >= 200 &&
    status < 300
  );
}

/** A NOTIFY with `Subscription-State: terminated` ends the subscription (RFC 6665 §4.1.3). */
export function terminatesSubscription(request: SipRequest): boolean {
  return (
    request.method === 'NOTIFY' && /^\s*terminated\b/i.test(request.getHeader('subscription-state') ?? '')
  );
}

/**
 * How long the subscription lasts, in seconds: the 2xx's Expires (the notifier's word, §4.2.1.1), else the
 * request's, else the default. An unparseable value counts as absent.
 */
export function subscriptionSeconds(request: SipRequest, response: SipResponse): number {
  for (const message of [response, request]) {
    const value = /^\s*(\d{1,10})\s*$/.exec(message.getHeader('expires') ?? '')?.[1];
    if (value !== undefined) return Number(value);
  }
  return DEFAULT_SUBSCRIPTION_SECONDS;
}

/** The expiry a NOTIFY announces (`Subscription-State: active;expires=N`, §4.1.3), if any. */
export function notifiedSeconds(notify: SipRequest): number | undefined {
  const m = /;\s*expires\s*=\s*(\d{1,10})/i.exec(notify.getHeader('subscription-state') ?? '');
  return m ? Number(m[1]) : undefined;
}

/** (Re)arms the subscription's expiry; `expire` runs once it and the grace have passed. */
export function armSubscription(
  dialog: AppDialog,
  seconds: number,
  graceSeconds: number,
  expire: () => void,
): void {
  const state = dialog.data;
  if (state.subscriptionTimer) clearTimeout(state.subscriptionTimer);
  state.subscriptionTimer = setTimeout(expire, (seconds + graceSeconds) * 1000);
  state.subscriptionTimer.unref();
}
