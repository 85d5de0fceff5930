import { parseContact, type SipUri } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { BanService } from '../access/ban-service.ts';
import type { Directory, UpstreamPbx } from '../directory/directory.ts';
import { type IncomingRequest, type Middleware, parsedOf, type SipResponse } from '../sip/request.ts';
import { requestFinal, type SrfRequester, type SrfResponse } from '../sip/srf-request.ts';
import type { EngineAddresses, FlowTokens } from './fronted-flows.ts';
import { pbxProxy } from './fronted-flows.ts';
import { countCredentials, relayedHeaders } from './relay-answer.ts';

/** A response of the PBX, as drachtio-srf hands it over. */
export type RelayedResponse = SrfResponse;

/** srf.request in its callback form (sip/srf-request.ts). */
export type RegisterRequester = SrfRequester;

export interface RegisterRelayDeps {
  directory: Pick<Directory, 'upstreamPbx'>;
  /** The platform's failure counting and bans: a PBX refusing a phone's credentials counts like our own refusal. */
  bans: Pick<BanService, 'recordFailure' | 'recordSuccess'>;
  tokens: FlowTokens;
  srf: RegisterRequester;
  engine: EngineAddresses;
  log: Logger;
  /** How long the PBX may take to answer (shorter than the phone's Timer F, 32 s). */
  answerTimeoutMs?: number;
}

/**
 * REGISTER of a phone whose domain fronts an upstream PBX (docs/sbc.md, "Fronting a PBX"): after the
 * platform's own rate limits, bans and scanner filter, the REGISTER is sent on to the PBX as a new
 * request of ours (our Via, a Call-ID derived from the phone's, our Contact), with a Path entry
 * (RFC 3327 §5.2) whose user part is the phone's flow token (RFC 5626 §5.2: the flow, sealed), so
 * the PBX routes calls for the phone back to us and the token names the flow to use. The digest runs
 * end to end: the PBX's 401 goes back to the phone with its challenge, the phone's retry carries its
 * Authorization on to the PBX; we hold no secret of theirs. The PBX's 2xx gives the phone its own
 * contact back with the expiry granted. Other domains go on to the platform's own registrar.
 */
export function relayRegister(deps: RegisterRelayDeps): Middleware {
  // Not async itself: every REGISTER passes here, and only a fronted domain's waits for the PBX.
  return (req, res, next) => {
    const to = parsedOf(req).to.uri;
    if (to.kind !== 'sip') return next();
    const pbx = deps.directory.upstreamPbx(to.host);
    if (!pbx) return next();
    return relayToPbx(deps, req, res, to, pbx);
  };
}

async function relayToPbx(
  deps: RegisterRelayDeps,
  req: IncomingRequest,
  res: SipResponse,
  to: SipUri,
  pbx: UpstreamPbx,
): Promise<void> {
  const parsed = parsedOf(req);
  const aor = `sip:${to.userText ?? ''}@${to.host.toLowerCase()}`;
  const hostport = deps.engine.hostport(pbx.transport);
  if (!hostport) return res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '5' } });

  let contacts: ReturnType<typeof parseContact> | undefined;
  const contactHeader = req.get('Contact');
  try {
    contacts = contactHeader ? parseContact(contactHeader) : undefined;
  } catch {
    return res.send(400, 'Bad Contact');
  }
  // One contact per REGISTER: the Path names one flow and one token stands for one contact.
  if (Array.isArray(contacts) && contacts.length !== 1) return res.send(400, 'One Contact Per Register');
  const phoneContact = Array.isArray(contacts) ? contacts[0] : undefined;
  const { source } = req.locals;
  // The flow this REGISTER came over, sealed: the Path and Contact the PBX keeps route its calls back here.
  const token = deps.tokens.tokenFor({
    aor,
    contactUri: phoneContact ? phoneContact.uri.toString() : aor,
    transport: source.transport,
    address: source.address,
    port: source.port,
  });
  const suffix = pbx.transport === 'udp' ? '' : `;transport=${pbx.transport}`;
  const headers: Record<string, string> = {
    From: req.get('From') ?? '',
    To: req.get('To') ?? '',
    'Call-ID': deps.tokens.callIdFor(parsed.callId),
    CSeq: `${parsed.cseq.seq} REGISTER`,
    Path: `<sip:${token}@${hostport}${suffix};lr>`,
    Supported: 'path',
  };
  if (contacts === '*') headers.Contact = '*';
  else if (phoneContact) {
    const expires = phoneContact.expires;
    headers.Contact = `<sip:${token}@${hostport}${suffix}>${expires === undefined ? '' : `;expires=${expires}`}`;
  }
  for (const name of ['Expires', 'Authorization', 'User-Agent']) {
    const value = req.get(name);
    if (value !== undefined) headers[name] = value;
  }

  let answer: RelayedResponse;
  try {
    answer = await send(deps, to.host, pbx, headers);
  } catch (error) {
    deps.log.warn({ err: error, aor, pbx: pbx.host }, 'the upstream PBX did not answer a REGISTER');
    return res.send(504, 'Server Time-out');
  }
  // Credentials the PBX did not take (a new challenge or 403) count towards the source's ban.
  await countCredentials(deps.bans, req, `${to.userText ?? ''}@${to.host.toLowerCase()}`, answer);
  if (answer.status >= 200 && answer.status < 300)
    return relayGrant(res, token, answer, phoneContact?.uri.toString());
  res.send(answer.status, answer.reason ?? '', { headers: relayedHeaders(answer) });
}

function send(
  deps: RegisterRelayDeps,
  domain: string,
  pbx: UpstreamPbx,
  headers: Record<string, string>,
): Promise<RelayedResponse> {
  return requestFinal(
    deps.srf,
    `sip:${domain}`,
    { method: 'REGISTER', proxy: pbxProxy(pbx), headers },
    deps.answerTimeoutMs ?? 10_000,
    'no answer from the PBX',
  );
}

/**
 * The PBX's 2xx: the phone gets its own contact back with the expiry the PBX granted ours (its
 * `expires`, else the Expires header); without one (a removal, a query) only what the PBX said.
 */
function relayGrant(
  res: SipResponse,
  token: string,
  answer: RelayedResponse,
  phoneContact: string | undefined,
): void {
  let granted: number | undefined;
  try {
    const listed = answer.get('Contact') ? parseContact(answer.get('Contact') ?? '') : [];
    if (listed !== '*')
      granted = listed.find((c) => c.uri.kind === 'sip' && c.uri.userText === token)?.expires;
  } catch {
    granted = undefined;
  }
  const expiresHeader = answer.get('Expires')?.trim();
  if (granted === undefined && expiresHeader && /^\d{1,10}$/.test(expiresHeader))
    granted = Number(expiresHeader);
  const headers: Record<string, string> = {};
  const date = answer.get('Date');
  if (date) headers.Date = date;
  if (phoneContact && granted !== undefined && granted > 0)
    headers.Contact = `<${phoneContact}>;expires=${granted}`;
  res.send(answer.status, answer.reason ?? 'OK', { headers });
}
