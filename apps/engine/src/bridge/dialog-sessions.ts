import { answerSessionTimer, type SipRequest, type SipResponse } from '@switchboard/sip';
import { type AppDialog, appDialogId } from './app-dialogs.ts';
import { buildInDialogRequest } from './app-messages.ts';
import type { BridgeCore } from './bridge-core.ts';
import { dialogNextHop, endDialogUnsolicited } from './dialog-usages.ts';

/**
 * The RFC 4028 session timers the engine runs on a dialog by itself, as drachtio-server does. The UA core of
 * @switchboard/sip hosts each dialog's SessionTimer (and its reliable provisionals, RFC 3262) and stops them
 * when the dialog ends; this file connects the timer's refresh and expiry to the wire.
 */

/**
 * RFC 4028 §9 on a 2xx we send to an INVITE or UPDATE (the dialog's first or a refresh): the negotiation
 * (answerSessionTimer) fills the 2xx, then the dialog's timer runs with the agreed interval and refresher;
 * no agreement turns the timer off.
 */
export function applySessionTimer(
  core: BridgeCore,
  request: SipRequest,
  response: SipResponse,
  dialog: AppDialog,
): void {
  const agreed = answerSessionTimer(request, response, core.minSE);
  if (!agreed) {
    core.ua.sessionTimerOf(dialog)?.stop();
    return;
  }
  startSessionTimer(core, dialog, agreed.interval, agreed.weRefresh);
}

/** (Re)starts a dialog's session timer (RFC 4028 §10) with the interval a 2xx agreed on. */
export function startSessionTimer(
  core: BridgeCore,
  dialog: AppDialog,
  interval: number,
  weRefresh: boolean,
): void {
  const timer = core.ua.ensureSessionTimer(dialog, {
    refresh: () => core.guard('session refresh', () => refreshSession(core, dialog)),
    expire: () => {
      if (!core.ua.has(dialog)) return;
      core.log.info({ dialogId: appDialogId(dialog) }, 'session not refreshed in time: ending the dialog');
      endDialogUnsolicited(core, dialog, 'Session timer expired', 'session-expired');
    },
  });
  timer.start(interval, weRefresh);
}

/**
 * We are the refresher and half the interval has passed: send the session refresh ourselves, as
 * drachtio-server does (the app is not involved): a re-INVITE offering our current session description
 * again with `Session-Expires: N;refresher=uac`, or an UPDATE without body when we have none (RFC 4028 §10;
 * a re-INVITE without an offer would need an answer in the ACK).
 */
function refreshSession(core: BridgeCore, dialog: AppDialog): void {
  const interval = core.ua.sessionTimerOf(dialog)?.interval;
  const localBody = dialog.data.localBody;
  if (!core.ua.has(dialog) || dialog.state !== 'confirmed' || !interval) return;
  const method = localBody ? 'INVITE' : 'UPDATE';
  const headers: Array<[string, string]> = [
    ['Session-Expires', `${interval};refresher=uac`],
    ['Min-SE', String(core.minSE)],
    ['Supported', 'timer'],
  ];
  if (localBody) headers.push(['Content-Type', localBody.contentType]);
  const request = buildInDialogRequest(
    { startLine: `${method} sip:placeholder SIP/2.0`, headers, body: localBody?.body ?? '' },
    dialog,
  );
  core.log.info({ dialogId: appDialogId(dialog), method }, 'refreshing the session');
  core.stack
    .sendRequest(request, dialogNextHop(dialog))
    .then((txn) =>
      txn.onResponse((response) =>
        core.guard('session refresh response', () => refreshAnswered(core, dialog, request, response)),
      ),
    )
    .catch((err: unknown) => {
      core.log.info(
        { dialogId: appDialogId(dialog), err: (err as Error).message },
        'session refresh not sent',
      );
      if (core.ua.has(dialog)) endDialogUnsolicited(core, dialog, 'Session timer expired', 'session-expired');
    });
}

/**
 * The answer to our session refresh: a 2xx is ACKed here for a re-INVITE and moves the remote target; the
 * SessionTimer decides the rest (restart, retry after 491 or 422, or the end of the session with a BYE, as
 * drachtio-server does).
 */
function refreshAnswered(
  core: BridgeCore,
  dialog: AppDialog,
  request: SipRequest,
  response: SipResponse,
): void {
  const status = response.status;
  const session = core.ua.sessionTimerOf(dialog);
  if (status < 200 || !core.ua.has(dialog) || !session) return;
  if (status < 300) {
    // §12.2.1.2: the 2xx to a target refresh moves the remote target.
    dialog.receiveResponse(response);
    if (request.method === 'INVITE') {
      const ack = buildInDialogRequest(
        { startLine: 'ACK sip:placeholder SIP/2.0', headers: [], body: '' },
        dialog,
      );
      dialog.data.lastAck = ack;
      void core.stack.sendAck(ack, dialogNextHop(dialog)).catch(() => {});
    }
  }
  const outcome = session.refreshAnswered(status, response.sessionExpires, response.minSE);
  if (outcome === 'retry-now') refreshSession(core, dialog);
  else if (outcome === 'expired') {
    core.log.info({ dialogId: appDialogId(dialog), status }, 'session refresh failed: ending the dialog');
    endDialogUnsolicited(core, dialog, 'Session timer expired', 'session-expired');
  }
}
