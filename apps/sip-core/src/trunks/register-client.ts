import { randomBytes } from 'node:crypto';
import { DigestClient, parseContact, parseSipUri } from '@switchboard/sip';
import { type SrfRequester, type SrfResponse, sendFinal } from '../sip/srf-request.ts';
import type { RegisterOutcome } from './registration.ts';
import type { TrunkSettings } from './settings.ts';

/** srf.request in its callback form (sip/srf-request.ts). */
export type OutboundRequester = SrfRequester;

/** How long one REGISTER may wait for its final response (Timer F is 32 s; a carrier that slow is down). */
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * Sends the REGISTERs of one trunk (RFC 3261 §10.2): the same Call-ID for every refresh and an
 * increasing CSeq (§10.2.4), a contact `<sip:{contactUser}@localhost>` the engine fills with its own
 * address, and one retry with digest credentials when challenged (401/407, §22.2). The digest is
 * computed here from the opened (sealed at rest) password; a configured realm must be the challenge's.
 *
 * A REGISTER that goes unanswered for `answerTimeoutMs` counts as failed, but its transaction keeps
 * retransmitting until Timer F; the next REGISTER waits for that end (RFC 3261 §10.2: no new
 * registration before the previous one's final response or timeout), so a registrar never sees two of
 * ours, and their retransmissions, interleaved on one Call-ID.
 */
export class RegisterClient {
  private readonly callId = `${randomBytes(12).toString('hex')}@trunk`;
  private readonly fromTag = randomBytes(6).toString('hex');
  private cseq = 0;
  /** Settles when the last REGISTER's transaction is over. */
  private previous: Promise<void> = Promise.resolve();
  private readonly digest: DigestClient;

  constructor(
    private readonly srf: OutboundRequester,
    private readonly trunk: TrunkSettings,
    private readonly answerTimeoutMs = ANSWER_TIMEOUT_MS,
  ) {
    this.digest = new DigestClient({ username: trunk.username, password: trunk.password ?? '' });
  }

  /**
   * One registration (or, with `expires` 0, its removal): the granted expiry or why it failed. At most
   * three requests: one challenge answered (401/407) and one `423 Interval Too Brief` followed
   * (RFC 3261 §10.2.8: ask again with the registrar's Min-Expires), in either order.
   */
  async register(expires = this.trunk.expires): Promise<RegisterOutcome> {
    let asked = expires;
    let challenge: SrfResponse | undefined;
    let res = await this.send(asked);
    for (let step = 0; step < 2; step++) {
      if ((res.status === 401 || res.status === 407) && challenge === undefined) {
        challenge = res;
      } else if (res.status === 423 && asked === expires) {
        const min = Number(res.get('Min-Expires') ?? Number.NaN);
        if (!Number.isInteger(min) || min <= asked || min > 86_400) break;
        asked = min;
      } else break;
      const authorization = challenge ? this.answer(challenge) : undefined;
      if (challenge && authorization === undefined)
        return {
          ok: false,
          error: `${challenge.status} challenge that cannot be answered (credentials, realm, algorithm)`,
        };
      const header = challenge?.status === 407 ? 'Proxy-Authorization' : 'Authorization';
      res = await this.send(asked, authorization ? { [header]: authorization } : {});
    }
    if (res.status < 200 || res.status >= 300)
      return { ok: false, error: `${res.status} ${res.reason ?? ''}`.trim() };
    if (asked === 0) return { ok: true, expires: 0 };
    return { ok: true, expires: this.granted(res) ?? asked };
  }

  private answer(res: SrfResponse): string | undefined {
    const header = res.get(res.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    if (!header) return undefined;
    if (this.trunk.password === undefined) return undefined;
    // A configured realm pins the credentials to it (RFC 3261 §22.1: credentials belong to a realm).
    const realm = /realm="([^"]*)"/i.exec(header)?.[1];
    if (this.trunk.realm && realm !== this.trunk.realm) return undefined;
    try {
      return this.digest.authorize([header], { method: 'REGISTER', uri: this.trunk.registrarUri });
    } catch {
      return undefined;
    }
  }

  /** The expiry the registrar granted our contact (its `expires` parameter, else the Expires header). */
  private granted(res: SrfResponse): number | undefined {
    const contacts = res.get('Contact');
    if (contacts) {
      try {
        const list = parseContact(contacts);
        if (list !== '*') {
          const ours = list.find((c) => c.uri.kind === 'sip' && c.uri.userText === this.trunk.contactUser);
          if (ours?.expires !== undefined) return ours.expires;
        }
      } catch {
        // An unparsable Contact: fall back to the Expires header.
      }
    }
    const expires = res.get('Expires');
    return expires && /^\d{1,10}$/.test(expires.trim()) ? Number(expires.trim()) : undefined;
  }

  private async send(expires: number, extra: Record<string, string> = {}): Promise<SrfResponse> {
    await this.previous;
    const { trunk } = this;
    const registrar = parseSipUri(trunk.registrarUri);
    const aor = `sip:${trunk.username}@${registrar.host}`;
    this.cseq++;
    const sent = sendFinal(
      this.srf,
      trunk.registrarUri,
      {
        method: 'REGISTER',
        proxy: trunk.proxy,
        headers: {
          From: `<${aor}>;tag=${this.fromTag}`,
          To: `<${aor}>`,
          'Call-ID': this.callId,
          CSeq: `${this.cseq} REGISTER`,
          Contact: `<sip:${trunk.contactUser}@localhost${trunk.transport === 'udp' ? '' : `;transport=${trunk.transport}`}>`,
          Expires: String(expires),
          ...extra,
        },
      },
      this.answerTimeoutMs,
      'no answer from the registrar',
    );
    this.previous = sent.ended;
    return sent.answer;
  }
}
