/**
 * The two notification bodies: PIDF (RFC 3863) for the `presence` event package and dialog-info+xml
 * (RFC 4235) for `dialog`. Every value that comes from a message or the directory (entity URIs, call
 * ids, tags, display names) is escaped, so a user part with `<` or `&` cannot break the document.
 */

export const PIDF_TYPE = 'application/pidf+xml';
export const DIALOG_INFO_TYPE = 'application/dialog-info+xml';
export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

/** The body type of each event package's NOTIFY. */
export const BODY_TYPES = {
  presence: PIDF_TYPE,
  dialog: DIALOG_INFO_TYPE,
  'message-summary': MESSAGE_SUMMARY_TYPE,
} as const;

/** A voicemail box's counts: new (not heard) and old (heard) messages. */
export interface MailboxCounts {
  newMessages: number;
  oldMessages: number;
}

/**
 * A message-summary body (RFC 3842 §5.2): whether messages wait, the account, and the voice-message
 * counts `new/old`.
 */
export function messageSummary(account: string, counts: MailboxCounts): string {
  return (
    `Messages-Waiting: ${counts.newMessages > 0 ? 'yes' : 'no'}\r\n` +
    `Message-Account: ${account}\r\n` +
    `Voice-Message: ${counts.newMessages}/${counts.oldMessages}\r\n`
  );
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Text and attribute values (XML 1.0 §2.4, §3.1). */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** What a presentity's presence is, derived from its registrations and calls (or published). */
export interface PresenceState {
  /** RFC 3863 §4.1.4: open when at least one device is registered. */
  basic: 'open' | 'closed';
  /** In a call: RFC 4480 `on-the-phone` activity, with a note for phones that only show notes. */
  onThePhone: boolean;
}

/** A PIDF document with one tuple for the presentity (RFC 3863 §4.1), plus an RPID activity (RFC 4480 §3.2). */
export function pidf(entity: string, state: PresenceState): string {
  const note = state.basic === 'closed' ? 'Offline' : state.onThePhone ? 'On the phone' : 'Online';
  const activity = state.onThePhone
    ? '  <dm:person id="p1"><rpid:activities><rpid:on-the-phone/></rpid:activities></dm:person>\n'
    : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${escapeXml(entity)}">\n` +
    '  <tuple id="t1">\n' +
    `    <status><basic>${state.basic}</basic></status>\n` +
    `    <contact>${escapeXml(entity)}</contact>\n` +
    `    <note>${note}</note>\n` +
    '  </tuple>\n' +
    activity +
    '</presence>\n'
  );
}

/** RFC 4235 §3.7.1 dialog states. */
export type DialogState = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated';

/** One dialog of the presentity as a BLF key shows it. */
export interface DialogView {
  /** Unique per dialog within the document (§4.1.2): the call's Call-ID on this platform. */
  id: string;
  callId: string;
  /** initiator: the presentity called; recipient: it is being called (§4.1.2). */
  direction: 'initiator' | 'recipient';
  state: DialogState;
  /** The other party's URI, when it may be shown (a withheld caller is not). */
  remote?: string | undefined;
}

/**
 * A full-state dialog-info document (RFC 4235 §4.1): `version` increments with every NOTIFY of the
 * subscription (§4.1.1), an empty document means no dialogs.
 */
export function dialogInfo(entity: string, version: number, dialogs: readonly DialogView[]): string {
  const items = dialogs.map((d) => {
    const remote = d.remote
      ? `    <remote><identity>${escapeXml(d.remote)}</identity><target uri="${escapeXml(d.remote)}"/></remote>\n`
      : '';
    return (
      `  <dialog id="${escapeXml(d.id)}" call-id="${escapeXml(d.callId)}" direction="${d.direction}">\n` +
      `    <state>${d.state}</state>\n` +
      `    <local><identity>${escapeXml(entity)}</identity></local>\n` +
      remote +
      '  </dialog>\n'
    );
  });
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${escapeXml(entity)}">\n` +
    items.join('') +
    '</dialog-info>\n'
  );
}
