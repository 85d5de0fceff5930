import type { RSeqCounter, SessionTimer, SipRequest } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import type { Flow } from './sip-stack.ts';

/**
 * The dialogs the engine keeps on behalf of apps (RFC 3261 §12). drachtio names a dialog
 * `Call-ID;from-tag=<the UAC's From tag>`: for a dialog we answered (uas) that is the remote tag, for one we
 * initiated (uac) our own tag.
 */
export interface Dialog {
  readonly id: string;
  readonly role: 'uac' | 'uas';
  /**
   * What created the dialog: an INVITE (ends with BYE) or a subscription (SUBSCRIBE, or REFER outside a
   * dialog; ends with a terminating NOTIFY or on expiry, RFC 6665 §4.4).
   */
  readonly usage: 'invite' | 'subscription';
  /** When the subscription of a subscription dialog expires (subscription-dialogs.ts). */
  subscriptionTimer: NodeJS.Timeout | undefined;
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  /** From (uac) or To (uas) of the dialog, without tag. */
  localUri: string;
  remoteUri: string;
  /** Contact of the peer (Request-URI of requests we send). */
  remoteTarget: string;
  /** Route set, in the order our requests carry it. */
  routeSet: string[];
  localCseq: number;
  remoteCseq: number | undefined;
  /** Our Contact header value. */
  localContact: string;
  /** CSeq number of the INVITE that created the dialog (its ACK carries it). */
  inviteCseq: number;
  /** The app that owns the dialog and receives its in-dialog requests. */
  owner: AppConnection;
  /** The flow the dialog's requests arrived on (for connection-oriented transports we answer on it). */
  flow: Flow;
  /** The outbound proxy the app asked for, kept for in-dialog requests without a route set. */
  nextHop: string | undefined;
  confirmed: boolean;
  /** The RSeq numbers of our reliable provisional responses (RFC 3262 §3), made at the first one. */
  rseq: RSeqCounter | undefined;
  /** RFC 4028 session timer, once a 2xx agreed on one. */
  session: SessionTimer | undefined;
  /** Our current session description, offered again in a refreshing re-INVITE (drachtio-server does the same). */
  localBody: { body: string; contentType: string } | undefined;
  /** Our last ACK to the dialog's 2xx, re-sent when the 2xx is retransmitted. */
  lastAck: SipRequest | undefined;
}

export function dialogIdOf(callId: string, uacTag: string): string {
  return `${callId};from-tag=${uacTag}`;
}

export class DialogTable {
  private readonly byId = new Map<string, Dialog>();

  add(dialog: Dialog): void {
    this.byId.set(dialog.id, dialog);
  }

  get(id: string): Dialog | undefined {
    return this.byId.get(id);
  }

  remove(id: string): void {
    const dialog = this.byId.get(id);
    dialog?.session?.stop();
    if (dialog?.subscriptionTimer) clearTimeout(dialog.subscriptionTimer);
    this.byId.delete(id);
  }

  /** The dialog an incoming request belongs to: To tag is our tag, From tag the peer's (RFC 3261 §12.2.2). */
  matchIncoming(callId: string, fromTag: string | undefined, toTag: string | undefined): Dialog | undefined {
    if (fromTag === undefined || toTag === undefined) return undefined;
    for (const id of [dialogIdOf(callId, fromTag), dialogIdOf(callId, toTag)]) {
      const d = this.byId.get(id);
      if (d && d.localTag === toTag && d.remoteTag === fromTag) return d;
    }
    return undefined;
  }

  /** Any dialog with this Call-ID (an app's request carrying a known Call-ID goes inside it, as drachtio does). */
  findByCallId(callId: string): Dialog | undefined {
    for (const d of this.byId.values()) if (d.callId === callId) return d;
    return undefined;
  }

  ownedBy(app: AppConnection): Dialog[] {
    return [...this.byId.values()].filter((d) => d.owner === app);
  }

  /** Forgets every dialog and stops their session timers (engine shutdown). */
  clear(): void {
    for (const id of [...this.byId.keys()]) this.remove(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
