import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ActiveCallInfo } from '../calls/call-types.ts';
import type { PresenceConfig } from '../config.ts';
import {
  BODY_TYPES,
  type DialogState,
  type DialogView,
  dialogInfo,
  type MailboxCounts,
  messageSummary,
  type PresenceState,
  pidf,
} from './documents.ts';
import type { PublicationNews, PublicationState, SharedPublications } from './shared-publications.ts';
import {
  type EventPackage,
  type NotifyChannel,
  type Party,
  PresenceStore,
  type Subscription,
} from './store.ts';

/** NOTIFYs waiting behind the one in flight, per subscription; beyond it the newest state replaces them. */
const MAX_QUEUED = 8;

export interface PresenceSources {
  /** Current bindings of an AOR (the location service). */
  bindings(aor: string): readonly unknown[];
  /** The calls in progress on this node. */
  calls(): ActiveCallInfo[];
  /** A subscriber's voicemail counts (held in memory); unset: no voicemail, always none waiting. */
  mailbox?(subscriberId: string): MailboxCounts;
}

export interface PresenceServiceDeps {
  sources: PresenceSources;
  config: PresenceConfig;
  log: Logger;
  /** Where publication changes are announced to the other workers and nodes; unset: one process. */
  publications?: Pick<SharedPublications, 'announce'>;
}

const DIALOG_STATES: Record<ActiveCallInfo['state'], DialogState> = {
  trying: 'trying',
  early: 'early',
  answered: 'confirmed',
  ended: 'terminated',
};

/** How a subscriber looks from outside: for the API and the portal's status dot. */
export type PresenceStatus = 'offline' | 'online' | 'in-call';

/**
 * The notifier of the `presence` (RFC 3856) and `dialog` (RFC 4235) event packages. A presentity's
 * state comes from its registrations and calls, or from what its devices PUBLISH (RFC 3903); whenever
 * one of them changes, every subscription watching it gets a NOTIFY with the full state (RFC 6665
 * §4.2.2). The subscriptions themselves are in `PresenceStore`.
 */
export class PresenceService {
  readonly store = new PresenceStore();
  private closed = false;

  constructor(private readonly deps: PresenceServiceDeps) {}

  get config(): PresenceConfig {
    return this.deps.config;
  }

  /** What the API shows: in a call (ringing or talking), online (registered), or offline. */
  status(subscriberId: string, aor: string): PresenceStatus {
    if (this.callsOf(subscriberId).some((c) => c.state !== 'ended')) return 'in-call';
    return this.deps.sources.bindings(aor).length > 0 ? 'online' : 'offline';
  }

  /** Starts a subscription and sends its first NOTIFY (RFC 6665 §4.2.1.2: at once, with the current state). */
  subscribe(
    event: EventPackage,
    watcher: Party,
    presentity: Party,
    channel: NotifyChannel,
    seconds: number,
    notify = true,
  ): Subscription {
    const subscription: Subscription = {
      id: randomUUID(),
      event,
      watcher,
      presentity,
      channel,
      expiresAt: 0,
      version: 0,
      reported: new Map(),
      lastBody: undefined,
      queue: Promise.resolve(),
      pending: 0,
      ended: false,
    };
    this.store.add(subscription);
    if (notify) this.refresh(subscription, seconds);
    return subscription;
  }

  /** A fetch (SUBSCRIBE with Expires: 0, RFC 6665 §4.4.3): one NOTIFY with the state, terminated. */
  fetch(event: EventPackage, watcher: Party, presentity: Party, channel: NotifyChannel): void {
    const subscription = this.subscribe(event, watcher, presentity, channel, 0, false);
    this.end(subscription, 'timeout');
  }

  /** A refresh (RFC 6665 §4.2.1.2): new expiry and a NOTIFY with the current state. */
  refresh(subscription: Subscription, seconds: number): void {
    subscription.expiresAt = Date.now() + seconds * 1000;
    clearTimeout(subscription.timer);
    subscription.timer = setTimeout(() => this.end(subscription, 'timeout'), seconds * 1000);
    subscription.timer.unref();
    this.notify(subscription, true);
  }

  /**
   * Ends a subscription with a final NOTIFY `terminated` (RFC 6665 §4.2.1.4 unsubscribe, §4.2.2
   * timeout, `noresource` when the presentity is gone), after which the dialog is over.
   */
  end(subscription: Subscription, reason: 'timeout' | 'noresource' | 'deactivated' | undefined): void {
    if (subscription.ended) return;
    this.store.remove(subscription.id);
    this.send(subscription, reason ? `terminated;reason=${reason}` : 'terminated', this.body(subscription));
    subscription.ended = true;
  }

  /** The watcher's dialog went away (it answered a NOTIFY with an error, or the engine dropped it). */
  forget(subscription: Subscription): void {
    subscription.ended = true;
    this.store.remove(subscription.id);
  }

  /** A presentity's registrations changed. */
  registrationsChanged(aor: string): void {
    for (const subscription of this.store.watchingAor(aor, 'presence')) this.notify(subscription);
  }

  /** A call started, rang, was answered or ended: its parties' watchers (and those who saw it) hear of it. */
  callChanged(call: ActiveCallInfo): void {
    const affected = new Set<Subscription>(this.store.reporting(call.callId));
    for (const id of [call.callerSubscriberId, call.calleeSubscriberId])
      if (id) for (const subscription of this.store.watching(id)) affected.add(subscription);
    for (const subscription of affected) this.notify(subscription);
  }

  /** A voicemail box's messages changed (RFC 3842 §3: every change is notified). */
  mailboxChanged(subscriberId: string): void {
    for (const subscription of this.store.watching(subscriberId, 'message-summary'))
      this.notify(subscription);
  }

  /**
   * Stores a presentity's publication, in place of `replaces` (the entity tag a modify or refresh
   * replaces), and announces it to the other workers and nodes. It ends by itself at its expiry.
   * The watchers hear of it through `publicationChanged` (a refresh changes no document).
   */
  publish(presentityId: string, publication: PublicationState, replaces?: string): void {
    this.storePublication({ presentityId, put: publication, drop: replaces });
    this.deps.publications?.announce({ presentityId, put: publication, drop: replaces });
  }

  /** Removes a publication (RFC 3903 §4.5) here and in the other workers and nodes. */
  unpublish(presentityId: string, etag: string): void {
    this.store.unpublish(presentityId, etag);
    this.deps.publications?.announce({ presentityId, drop: etag });
  }

  /** Another worker's or node's publication change: stored here too, and told to the watchers here. */
  publicationShared(news: PublicationNews): void {
    this.storePublication(news);
    this.publicationChanged(news.presentityId);
  }

  private storePublication({ presentityId, put, drop }: PublicationNews): void {
    if (drop !== undefined) this.store.unpublish(presentityId, drop);
    if (!put) return;
    this.store.publish(presentityId, put, () => {
      this.store.unpublish(presentityId, put.etag);
      this.publicationChanged(presentityId);
    });
  }

  /** A device's PUBLISH changed the presentity's published state. */
  publicationChanged(presentityId: string): void {
    for (const subscription of this.store.watching(presentityId, 'presence')) this.notify(subscription);
  }

  close(): void {
    this.closed = true;
    for (const subscription of this.store.all()) subscription.channel.drop();
    this.store.clear();
  }

  private callsOf(subscriberId: string): ActiveCallInfo[] {
    return this.deps.sources
      .calls()
      .filter((c) => c.callerSubscriberId === subscriberId || c.calleeSubscriberId === subscriberId);
  }

  /** The presentity's state as PIDF: a device's publication wins over what the platform derives. */
  private presenceBody(presentity: Party): string {
    const published = this.store.published(presentity.id);
    if (published !== undefined) return published;
    const state: PresenceState = {
      basic: this.deps.sources.bindings(presentity.aor).length > 0 ? 'open' : 'closed',
      onThePhone: this.callsOf(presentity.id).some((c) => c.state === 'answered'),
    };
    return pidf(presentity.aor, state);
  }

  /** The dialogs a dialog-info NOTIFY reports now: current calls, and those gone since the last one as terminated. */
  private dialogs(subscription: Subscription): DialogView[] {
    const { presentity } = subscription;
    const now = new Map<string, DialogView>();
    for (const call of this.callsOf(presentity.id)) {
      const initiator = call.callerSubscriberId === presentity.id;
      const other = initiator ? call.callee : call.callerWithheld ? undefined : call.caller;
      now.set(call.callId, {
        id: call.callId,
        callId: call.callId,
        direction: initiator ? 'initiator' : 'recipient',
        state: DIALOG_STATES[call.state],
        remote: other === undefined ? undefined : asUri(other, presentity.aor),
      });
    }
    const gone = [...subscription.reported.values()]
      .filter((d) => !now.has(d.id) && d.state !== 'terminated')
      .map((d) => ({ ...d, state: 'terminated' as const }));
    return [...now.values(), ...gone];
  }

  private mailboxBody(presentity: Party): string {
    const counts = this.deps.sources.mailbox?.(presentity.id) ?? { newMessages: 0, oldMessages: 0 };
    return messageSummary(presentity.aor, counts);
  }

  private body(subscription: Subscription): string {
    if (subscription.event === 'presence') return this.presenceBody(subscription.presentity);
    if (subscription.event === 'message-summary') return this.mailboxBody(subscription.presentity);
    const dialogs = this.dialogs(subscription);
    // Remembered for the next document; a dialog reported terminated is not reported again once its call is gone.
    this.store.report(
      subscription,
      new Map(dialogs.filter((d) => d.state !== 'terminated').map((d) => [d.id, d])),
    );
    const body = dialogInfo(subscription.presentity.aor, subscription.version, dialogs);
    subscription.version += 1;
    return body;
  }

  /** Queues a NOTIFY with the current state; an unchanged state is sent only when `always` (a refresh). */
  private notify(subscription: Subscription, always = false): void {
    if (subscription.ended || this.closed) return;
    const signature = this.signature(subscription);
    if (!always && signature === subscription.lastBody) return;
    subscription.lastBody = signature;
    const seconds = Math.max(0, Math.round((subscription.expiresAt - Date.now()) / 1000));
    this.send(subscription, `active;expires=${seconds}`, this.body(subscription));
  }

  /** The state without the dialog-info version, to tell a change from a repeat. */
  private signature(subscription: Subscription): string {
    if (subscription.event === 'presence') return this.presenceBody(subscription.presentity);
    if (subscription.event === 'message-summary') return this.mailboxBody(subscription.presentity);
    // Dialogs still going only: a call reported terminated that then leaves the list changes nothing.
    return JSON.stringify(
      this.dialogs(subscription)
        .filter((d) => d.state !== 'terminated')
        .map((d) => [d.id, d.state]),
    );
  }

  private send(subscription: Subscription, state: string, body: string): void {
    if (subscription.pending >= MAX_QUEUED) {
      this.deps.log.warn({ subscription: subscription.id }, 'NOTIFY queue full: watcher too slow');
      return;
    }
    subscription.pending += 1;
    const headers = {
      Event: subscription.event,
      'Subscription-State': state,
      'Content-Type': BODY_TYPES[subscription.event],
    };
    subscription.queue = subscription.queue
      .then(() => subscription.channel.notify(headers, body))
      .catch((error: unknown) => {
        // RFC 6665 §4.2.2: a NOTIFY answered 481 or timed out ends the subscription.
        this.deps.log.info(
          { err: error, subscription: subscription.id },
          'NOTIFY failed: subscription ended',
        );
        this.forget(subscription);
      })
      .finally(() => {
        subscription.pending -= 1;
      });
  }
}

/** The other party of a call as a URI: dialled numbers and user names are in the presentity's domain. */
function asUri(party: string, presentityAor: string): string {
  if (/^sips?:/i.test(party)) return party;
  const domain = presentityAor.slice(presentityAor.indexOf('@') + 1);
  return `sip:${party}@${domain}`;
}
