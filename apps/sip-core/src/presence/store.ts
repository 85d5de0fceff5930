import { SetIndex } from '@switchboard/sip';
import type { DialogView } from './documents.ts';

/**
 * All presence state of this node in one place: the subscriptions (RFC 6665) by id, by presentity (id
 * and AOR), by the calls their last NOTIFY reported and counted by watcher, so that no event walks every
 * subscription; and the presence documents devices published (RFC 3903). Nothing else keeps any,
 * so moving presence across nodes means replacing this module with one over shared storage (the
 * NOTIFY channel of a subscription stays with the node that holds its dialog).
 */

export type EventPackage = 'presence' | 'dialog' | 'message-summary';

/** Sends one NOTIFY in the subscription's dialog (drachtio-srf's Dialog behind it). */
export interface NotifyChannel {
  notify(headers: Record<string, string>, body: string): Promise<void>;
  /** Forgets the dialog without a NOTIFY (the watcher is gone). */
  drop(): void;
}

/** A subscriber as presence knows it. */
export interface Party {
  id: string;
  customerId: string;
  /** `sip:user@domain`: the entity of the documents and the registrations' AOR. */
  aor: string;
}

export interface Subscription {
  id: string;
  event: EventPackage;
  watcher: Party;
  presentity: Party;
  channel: NotifyChannel;
  /** Epoch ms the subscription ends unless refreshed. */
  expiresAt: number;
  timer?: NodeJS.Timeout | undefined;
  /** dialog-info `version` of the next NOTIFY (RFC 4235 §4.1.1: starts at 0, +1 per NOTIFY). */
  version: number;
  /** The dialogs the last NOTIFY reported, so a call that is gone is reported terminated once. */
  reported: Map<string, DialogView>;
  /** The last body queued, so an unchanged state is not notified again. */
  lastBody: string | undefined;
  /** NOTIFYs go one at a time, in order (RFC 6665 §4.2.2: wait for the previous one's answer). */
  queue: Promise<void>;
  pending: number;
  /** Set once the final NOTIFY is on its way: nothing more is sent. */
  ended: boolean;
  /** `address:port` the SUBSCRIBE came from: that device needs no unsolicited NOTIFY (voicemail MWI). */
  source?: string | undefined;
}

export interface Publication {
  etag: string;
  body: string;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

export class PresenceStore {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly byPresentity = new SetIndex<string, string>();
  /** Subscription ids by the presentity's AOR: a registration change names the AOR. */
  private readonly byPresentityAor = new SetIndex<string, string>();
  /** Subscription ids by the Call-IDs their last NOTIFY reported: a call event names the Call-ID. */
  private readonly byReportedCall = new SetIndex<string, string>();
  private readonly perWatcher = new Map<string, number>();
  /** Publications by presentity id, then by entity tag. */
  private readonly publications = new Map<string, Map<string, Publication>>();

  add(subscription: Subscription): void {
    this.subscriptions.set(subscription.id, subscription);
    this.byPresentity.add(subscription.presentity.id, subscription.id);
    this.byPresentityAor.add(subscription.presentity.aor, subscription.id);
    for (const callId of subscription.reported.keys()) this.byReportedCall.add(callId, subscription.id);
    const watcher = subscription.watcher.id;
    this.perWatcher.set(watcher, (this.perWatcher.get(watcher) ?? 0) + 1);
  }

  remove(id: string): Subscription | undefined {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return undefined;
    clearTimeout(subscription.timer);
    this.subscriptions.delete(id);
    this.byPresentity.delete(subscription.presentity.id, id);
    this.byPresentityAor.delete(subscription.presentity.aor, id);
    for (const callId of subscription.reported.keys()) this.byReportedCall.delete(callId, id);
    const left = (this.perWatcher.get(subscription.watcher.id) ?? 1) - 1;
    if (left <= 0) this.perWatcher.delete(subscription.watcher.id);
    else this.perWatcher.set(subscription.watcher.id, left);
    return subscription;
  }

  /** The subscriptions watching `presentityId`, of one package or all. */
  watching(presentityId: string, event?: EventPackage): Subscription[] {
    return this.subscriptionsOf(this.byPresentity.get(presentityId), event);
  }

  /** The subscriptions watching the presentity whose AOR is `aor`, of one package or all. */
  watchingAor(aor: string, event?: EventPackage): Subscription[] {
    return this.subscriptionsOf(this.byPresentityAor.get(aor), event);
  }

  private subscriptionsOf(
    ids: ReadonlySet<string> | undefined,
    event: EventPackage | undefined,
  ): Subscription[] {
    if (!ids) return [];
    const found: Subscription[] = [];
    for (const id of ids) {
      const subscription = this.subscriptions.get(id);
      if (subscription && (event === undefined || subscription.event === event)) found.push(subscription);
    }
    return found;
  }

  /** Subscriptions whose last NOTIFY reported the call `callId` (it may have left the presentity). */
  reporting(callId: string): Subscription[] {
    return this.subscriptionsOf(this.byReportedCall.get(callId), undefined);
  }

  /** The dialogs the subscription's NOTIFY now reports (see `reporting`). */
  report(subscription: Subscription, reported: Map<string, DialogView>): void {
    const indexed = this.subscriptions.get(subscription.id) === subscription;
    if (indexed)
      for (const callId of subscription.reported.keys()) this.byReportedCall.delete(callId, subscription.id);
    subscription.reported = reported;
    if (indexed) for (const callId of reported.keys()) this.byReportedCall.add(callId, subscription.id);
  }

  countOf(watcherId: string): number {
    return this.perWatcher.get(watcherId) ?? 0;
  }

  get size(): number {
    return this.subscriptions.size;
  }

  all(): Subscription[] {
    return [...this.subscriptions.values()];
  }

  /** Publication `etag` of the presentity, if it has not expired. */
  publication(presentityId: string, etag: string): Publication | undefined {
    return this.publications.get(presentityId)?.get(etag);
  }

  /** Stores (or replaces, by entity tag) a publication; `expire` runs when it lapses unrefreshed. */
  publish(presentityId: string, publication: Omit<Publication, 'timer'>, expire: () => void): void {
    const own = this.publications.get(presentityId) ?? new Map<string, Publication>();
    clearTimeout(own.get(publication.etag)?.timer);
    // Re-inserted, so the map's last entry is the most recent publication.
    own.delete(publication.etag);
    const timer = setTimeout(expire, Math.max(0, publication.expiresAt - Date.now()));
    timer.unref();
    own.set(publication.etag, { ...publication, timer });
    this.publications.set(presentityId, own);
  }

  unpublish(presentityId: string, etag: string): boolean {
    const own = this.publications.get(presentityId);
    const publication = own?.get(etag);
    if (!own || !publication) return false;
    clearTimeout(publication.timer);
    own.delete(etag);
    if (own.size === 0) this.publications.delete(presentityId);
    return true;
  }

  /** The presentity's most recently published document, when a device publishes (RFC 3903 §6). */
  published(presentityId: string): string | undefined {
    const own = this.publications.get(presentityId);
    if (!own) return undefined;
    let newest: Publication | undefined;
    for (const publication of own.values()) newest = publication;
    return newest?.body;
  }

  clear(): void {
    for (const subscription of this.subscriptions.values()) clearTimeout(subscription.timer);
    for (const own of this.publications.values()) for (const p of own.values()) clearTimeout(p.timer);
    this.subscriptions.clear();
    this.byPresentity.clear();
    this.byPresentityAor.clear();
    this.byReportedCall.clear();
    this.perWatcher.clear();
    this.publications.clear();
  }
}
