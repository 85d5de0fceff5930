import type { SipCoreMetrics } from '@switchboard/metrics';
import {
  type Contact,
  type ContactList,
  parseContact,
  parseDeltaSeconds,
  parseNameAddrList,
  parseTokenList,
  SipParseError,
} from '@switchboard/sip';
import type { Logger } from 'pino';
import type { RegistrarConfig } from '../config.ts';
import type { CachedSubscriber } from '../directory/directory.ts';
import { type Binding, isNatted, secondsLeft } from '../location/binding.ts';
import { type BindingChange, BindingConflict, type LocationService } from '../location/location-service.ts';
import { isPrivateAddress } from '../net/address.ts';
import {
  type Middleware,
  type ParsedRequest,
  parsedOf,
  type SipRequest,
  subscriberOf,
} from '../sip/request.ts';

export interface RegisterDeps {
  location: LocationService;
  config: RegistrarConfig;
  nodeName: string;
  log: Logger;
  now?: () => number;
  /** Counts each answer by result (registered, unregistered, query, refused). */
  registrations?: SipCoreMetrics['registrations'];
}

/** A request the registrar refuses, with the status and headers to answer. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }
}

/** The normalised address of record: `sip:user@domain`. */
export function aorOf(subscriber: Pick<CachedSubscriber, 'username' | 'domain'>): string {
  return `sip:${subscriber.username}@${subscriber.domain}`;
}

/**
 * What identifies a contact within its AOR (RFC 5626 §6, RFC 5627): the instance with its reg-id
 * when the UA uses outbound, else the instance, else the Contact URI itself.
 */
export function bindingKeyOf(contact: Contact): string {
  const instance = contact.instance;
  const regId = contact.regId;
  if (instance && regId !== undefined) return `${instance};reg-id=${regId}`;
  if (instance) return instance;
  return contact.uri.toString();
}

function headerTokens(req: SipRequest, name: string): string[] {
  const value = req.get(name);
  if (!value) return [];
  try {
    return parseTokenList(value, name).map((token) => token.toLowerCase());
  } catch {
    return [];
  }
}

/**
 * Behind NAT when the Contact does not name the address the packet came from, or names a private
 * address while the packet came from elsewhere (RFC 3581 received/rport carry the same facts).
 */
function natDetected(contact: Contact, source: SipRequest['locals']['source']): boolean {
  if (contact.uri.kind !== 'sip') return false;
  const contactHost = contact.uri.host.toLowerCase();
  if (isPrivateAddress(contactHost) && contactHost !== source.address) return true;
  return isNatted({
    contactUri: contact.uri.toString(),
    receivedAddress: source.address,
    receivedPort: source.port,
  });
}

/**
 * The registrar (RFC 3261 §10.3): adds, refreshes and removes the bindings of the authenticated
 * subscriber's AOR and answers 200 with every current binding and its remaining time.
 */
export function registerHandler(deps: RegisterDeps): Middleware {
  const now = deps.now ?? Date.now;
  const { config, location, log, registrations } = deps;

  return async (req, res) => {
    const parsed = parsedOf(req);
    const subscriber = subscriberOf(req);
    const aor = aorOf(subscriber);
    try {
      const contacts = readContacts(req);
      const headerExpires = readExpires(req);
      const supported = headerTokens(req, 'Supported');
      const path = readPath(req);
      const bindings =
        contacts === undefined
          ? location.lookup(aor) // a query: no Contact, list the bindings (step 6)
          : await location.update(aor, (current) =>
              contacts === '*'
                ? removeAll(current, parsed, headerExpires)
                : plan(req, parsed, contacts, headerExpires, path, current),
            );
      const headers: Record<string, string> = { Date: new Date(now()).toUTCString() };
      const at = now();
      if (bindings.length > 0) headers.Contact = bindings.map((b) => contactOf(b, at)).join(', ');
      if (path.length > 0 && supported.includes('path')) headers.Path = path.join(', ');
      if (config.serviceRoute.length > 0) headers['Service-Route'] = config.serviceRoute.join(', ');
      const outbound =
        contacts !== undefined &&
        contacts !== '*' &&
        contacts.some((c) => c.regId !== undefined && c.instance);
      if (outbound && supported.includes('outbound') && path.length === 0) headers.Require = 'outbound';
      res.send(200, 'OK', { headers });
      const result = contacts === undefined ? 'query' : bindings.length > 0 ? 'registered' : 'unregistered';
      registrations?.inc({ result });
      if (result !== 'query')
        log.info({ aor, source: req.locals.source.address, bindings: bindings.length }, result);
    } catch (error) {
      if (error instanceof Refusal || error instanceof BindingConflict) {
        const headers = error instanceof Refusal ? error.headers : {};
        registrations?.inc({ result: 'refused' });
        log.info({ aor, status: error.status, reason: error.reason }, 'register refused');
        return res.send(error.status, error.reason, { headers });
      }
      throw error;
    }
  };

  /** Step 7 for each Contact: compute its expiry, check the Call-ID/CSeq order, add, refresh or remove. */
  function plan(
    req: SipRequest,
    parsed: ParsedRequest,
    contacts: Contact[],
    headerExpires: number | undefined,
    path: string[],
    current: Binding[],
  ): BindingChange {
    const { source } = req.locals;
    const subscriber = subscriberOf(req);
    const byKey = new Map(current.map((b) => [b.bindingKey, b]));
    const change: BindingChange = { upserts: [], removals: [] };
    const at = now();
    for (const contact of contacts) {
      if (contact.uri.kind !== 'sip') throw new Refusal(400, 'Bad Contact URI');
      const key = bindingKeyOf(contact);
      let expires = contact.expires ?? headerExpires ?? config.defaultExpires;
      // RFC 3261 §10.3 step 7: too brief an interval is refused, naming the shortest we accept.
      if (expires > 0 && expires < config.minExpires)
        throw new Refusal(423, 'Interval Too Brief', { 'Min-Expires': String(config.minExpires) });
      const natted = natDetected(contact, source);
      expires = Math.min(expires, config.maxExpires);
      // A NATed UDP device must refresh before its NAT mapping times out.
      if (natted && source.transport === 'udp') expires = Math.min(expires, config.natExpires);

      const existing = byKey.get(key);
      if (existing && existing.callId === parsed.callId && parsed.cseq.seq <= existing.cseq)
        throw new BindingConflict(500, 'Out Of Order Register');
      if (expires === 0) {
        if (existing) change.removals.push(key);
        continue;
      }
      const push = contact.pushParams;
      change.upserts.push({
        aor: aorOf(subscriber),
        bindingKey: key,
        subscriberId: subscriber.id,
        contactUri: contact.uri.toString(),
        receivedAddress: source.address,
        receivedPort: source.port,
        transport: source.transport,
        localSocket: req.receivedOn ? `${source.transport}:${req.receivedOn}` : null,
        path,
        expiresAt: at + expires * 1000,
        userAgent: parsed.userAgent?.slice(0, 255) ?? null,
        instanceId: contact.instance ?? null,
        regId: contact.regId ?? null,
        q: contact.q ?? null,
        callId: parsed.callId,
        cseq: parsed.cseq.seq,
        pnProvider: push['pn-provider'] ?? null,
        pnPrid: push['pn-prid'] ?? null,
        pnParam: push['pn-param'] ?? null,
        node: deps.nodeName,
      });
    }
    return change;
  }
}

/** Contact: * removes every binding; only allowed with Expires: 0 (RFC 3261 §10.3 step 6). */
function removeAll(
  current: Binding[],
  parsed: ParsedRequest,
  headerExpires: number | undefined,
): BindingChange {
  if (headerExpires !== 0) throw new Refusal(400, 'Contact * Requires Expires 0');
  for (const binding of current) {
    if (binding.callId === parsed.callId && parsed.cseq.seq <= binding.cseq)
      throw new BindingConflict(500, 'Out Of Order Register');
  }
  return { upserts: [], removals: current.map((b) => b.bindingKey) };
}

function readContacts(req: SipRequest): ContactList | undefined {
  const value = req.get('Contact');
  if (value === undefined || value.trim() === '') return undefined;
  let contacts: ContactList;
  try {
    contacts = parseContact(value);
  } catch (error) {
    if (error instanceof SipParseError) throw new Refusal(400, 'Bad Contact');
    throw error;
  }
  // `*` mixed with addresses parses as an address list containing a bad URI, so it ends up above.
  return contacts;
}

function readExpires(req: SipRequest): number | undefined {
  const value = req.get('Expires');
  if (value === undefined) return undefined;
  try {
    return parseDeltaSeconds(value.trim(), 'expires');
  } catch {
    throw new Refusal(400, 'Bad Expires');
  }
}

function readPath(req: SipRequest): string[] {
  const value = req.get('Path');
  if (!value) return [];
  try {
    return parseNameAddrList(value, 'path').map((entry) => entry.toString());
  } catch {
    throw new Refusal(400, 'Bad Path');
  }
}

/** A binding as the 200 OK lists it: the Contact URI with its remaining seconds. */
function contactOf(binding: Binding, now: number): string {
  let text = `<${binding.contactUri}>;expires=${secondsLeft(binding, now)}`;
  if (binding.instanceId) text += `;+sip.instance="<${binding.instanceId}>"`;
  if (binding.regId !== null) text += `;reg-id=${binding.regId}`;
  return text;
}
