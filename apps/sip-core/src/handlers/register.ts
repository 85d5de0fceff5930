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
import type { MessageQueue } from '../messages/queue.ts';
import { isPrivateAddress } from '../net/address.ts';
import {
  type ContactPush,
  contactPush,
  featureCaps,
  purrOf,
  pushBindingKey,
  type RegistrarPush,
} from '../push/contact-push.ts';
import { PUSH_NOT_SUPPORTED } from '../push/status-code.ts';
import {
  type IncomingRequest,
  type Middleware,
  type ParsedRequest,
  parsedOf,
  subscriberOf,
} from '../sip/request.ts';

export interface RegisterDeps {
  location: LocationService;
  config: RegistrarConfig;
  nodeName: string;
  log: Logger;
  now?: () => number;
  /** RFC 8599 push support; without it pn-* parameters are stored as they come. */
  push?: RegistrarPush;
  /** Counts each answer by result (registered, unregistered, query, refused). */
  registrations?: SipCoreMetrics['registrations'];
  /** Messages stored while the subscriber had no device (RFC 3428 §7), sent once it registers. */
  messageQueue?: Pick<MessageQueue, 'registered'>;
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

function headerTokens(req: IncomingRequest, name: string): string[] {
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
function natDetected(contact: Contact, source: IncomingRequest['locals']['source']): boolean {
  if (contact.uri.kind !== 'sip') return false;
  const contactHost = contact.uri.host.toLowerCase();
  if (isPrivateAddress(contactHost) && contactHost !== source.address) return true;
  return isNatted({
    contactUri: contact.uri.toString(),
    receivedAddress: source.address,
    receivedPort: source.port,
  });
}

/** Every change keeps a binding that was there, at the same contact and source: nothing but a refresh. */
function isRefreshOnly(change: BindingChange, before: ReadonlyMap<string, Binding>): boolean {
  if (change.removals.length > 0) return false;
  return change.upserts.every((binding) => {
    const old = before.get(binding.bindingKey);
    return (
      old !== undefined &&
      old.contactUri === binding.contactUri &&
      old.receivedAddress === binding.receivedAddress &&
      old.receivedPort === binding.receivedPort &&
      old.transport === binding.transport
    );
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
      const pushes = Array.isArray(contacts) ? contacts.map(readPush) : [];
      const providers =
        deps.push && pushes.some((p) => p.kind !== 'none')
          ? await deps.push.providers(subscriber.domain)
          : [];
      let planned: BindingChange | undefined;
      let known = new Map<string, Binding>();
      const bindings =
        contacts === undefined
          ? location.lookup(aor) // a query: no Contact, list the bindings (step 6)
          : await location.update(aor, (current) => {
              known = new Map(current.map((b) => [b.bindingKey, b]));
              planned =
                contacts === '*'
                  ? removeAll(current, parsed, headerExpires)
                  : plan(req, parsed, contacts, pushes, providers, headerExpires, path, current);
              return planned;
            });
      const headers: Record<string, string> = { Date: new Date(now()).toUTCString() };
      const caps = deps.push ? pushFeatureCaps(pushes, providers, planned) : undefined;
      if (caps) headers['Feature-Caps'] = caps;
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
      // RFC 8599: a request held for this device can go on now that it has registered.
      for (const binding of planned?.upserts ?? [])
        if (binding.pnPrid !== null) deps.push?.registered(binding);
      // Messages wait only while a subscriber has no device: a device that is new (not a refresh)
      // is when they can go out (messages/queue.ts). A refresh costs no database read.
      if (planned?.upserts.some((b) => !known.has(b.bindingKey))) deps.messageQueue?.registered(subscriber);
      const result = contacts === undefined ? 'query' : bindings.length > 0 ? 'registered' : 'unregistered';
      registrations?.inc({ result });
      if (result !== 'query') {
        const fields = { aor, source: req.locals.source.address, bindings: bindings.length };
        // A device that appeared, moved or went away is an event; a refresh of what was there is
        // routine, nearly every REGISTER a busy node sees (docs/registrar.md, "Logs").
        if (planned === undefined || !isRefreshOnly(planned, known)) log.info(fields, result);
        else log.debug(fields, 'refreshed');
      }
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

  /** Reads a Contact's RFC 8599 parameters; without push support they are not looked at. */
  function readPush(contact: Contact): ContactPush {
    return deps.push ? contactPush(contact) : { kind: 'none' };
  }

  /**
   * Feature-Caps of the 2xx (RFC 8599): the service of the push binding, with `+sip.pnsreg` when
   * the UA asked for refresh pushes, and the PURR; for a query (empty pn-provider) the services we
   * support. Nothing when no Contact spoke of push.
   */
  function pushFeatureCaps(
    pushes: ContactPush[],
    providers: readonly string[],
    planned: BindingChange | undefined,
  ): string | undefined {
    const pushed = planned?.upserts.find((b) => b.pnProvider !== null && b.pnPrid !== null);
    if (pushed) {
      return featureCaps({
        pns: [pushed.pnProvider!],
        ...(pushed.pnRefresh ? { pnsreg: pushed.pnRefresh } : {}),
        purr: purrOf(pushed.aor, pushed.bindingKey),
      });
    }
    if (pushes.some((p) => p.kind === 'query') && providers.length > 0)
      return featureCaps({ pns: providers });
    return undefined;
  }

  /** Step 7 for each Contact: compute its expiry, check the Call-ID/CSeq order, add, refresh or remove. */
  function plan(
    req: IncomingRequest,
    parsed: ParsedRequest,
    contacts: Contact[],
    pushes: ContactPush[],
    providers: readonly string[],
    headerExpires: number | undefined,
    path: string[],
    current: Binding[],
  ): BindingChange {
    const { source } = req.locals;
    const subscriber = subscriberOf(req);
    const byKey = new Map(current.map((b) => [b.bindingKey, b]));
    const change: BindingChange = { upserts: [], removals: [] };
    const at = now();
    for (const [index, contact] of contacts.entries()) {
      if (contact.uri.kind !== 'sip') throw new Refusal(400, 'Bad Contact URI');
      const pn = pushes[index] ?? { kind: 'none' };
      // RFC 8599: the pn-* values identify a device that has no instance id, whatever address
      // and port it comes back from after a suspension.
      const key = pn.kind === 'push' && !contact.instance ? pushBindingKey(pn) : bindingKeyOf(contact);
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
      if (pn.kind === 'push') {
        // RFC 8599: we cannot push through this service (unknown, or no credentials here).
        if (!providers.includes(pn.provider))
          throw new Refusal(PUSH_NOT_SUPPORTED.status, PUSH_NOT_SUPPORTED.reason);
        if (pn.prid === '') throw new Refusal(400, 'Missing pn-prid');
        // Device tokens are a few hundred characters; anything far longer is not one.
        if (pn.prid.length > 1024) throw new Refusal(400, 'Bad pn-prid');
        if (pn.param !== null && pn.param.length > 256) throw new Refusal(400, 'Bad pn-param');
      }
      const push = contact.pushParams;
      // RFC 8599: we push for a refresh this long before expiry, at most half the interval.
      const pnRefresh =
        pn.kind === 'push' && pn.wantsRefresh && deps.push
          ? Math.max(1, Math.min(deps.push.refreshLeadSeconds, Math.floor(expires / 2)))
          : null;
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
        // A query (empty pn-provider) stores no push parameters: there is nothing to push to.
        pnProvider:
          pn.kind === 'push' ? pn.provider : pn.kind === 'query' ? null : (push['pn-provider'] ?? null),
        pnPrid: pn.kind === 'push' ? pn.prid : pn.kind === 'query' ? null : (push['pn-prid'] ?? null),
        pnParam: pn.kind === 'push' ? pn.param : pn.kind === 'query' ? null : (push['pn-param'] ?? null),
        pnRefresh,
        node: deps.nodeName,
        registeredAt: at,
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

function readContacts(req: IncomingRequest): ContactList | undefined {
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

function readExpires(req: IncomingRequest): number | undefined {
  const value = req.get('Expires');
  if (value === undefined) return undefined;
  try {
    return parseDeltaSeconds(value.trim(), 'expires');
  } catch {
    throw new Refusal(400, 'Bad Expires');
  }
}

function readPath(req: IncomingRequest): string[] {
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
