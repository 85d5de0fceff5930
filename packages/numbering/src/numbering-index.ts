import { NumberingError } from './errors.ts';
import type { LcrTable, Rng, RouteTarget } from './lcr.ts';
import { buildLcrTable, isCalleeAllowed, selectRoutes } from './lcr.ts';
import type { DialPlan, NormalisedNumber } from './normalise.ts';
import { e164Digits, normaliseNumber, parseE164, printable, resolveDialPlan } from './normalise.ts';
import { type PeerSource, PeerSourceTable } from './peer-sources.ts';
import type { CompiledRuleSet, RewriteResult, RewriteVariables } from './rewrite.ts';
import { applyRewrite, compileRuleSet } from './rewrite.ts';
import type {
  DomainData,
  NumberData,
  NumberingData,
  RewriteDirection,
  RewriteField,
  SubscriberData,
} from './types.ts';
import { emptyNumberingData } from './types.ts';

/** What a number maps to: the subscriber's SIP URI. */
export interface NumberMapping {
  /** `+` and digits. */
  e164: string;
  numberId: string;
  isPrimary: boolean;
  subscriberId: string;
  username: string;
  domain: string;
  uri: string;
}

/** A number (DID) that rings a hunt group; the group itself is sip-core's to resolve. */
export interface HuntGroupNumber {
  /** `+` and digits. */
  e164: string;
  numberId: string;
  huntGroupId: string;
}

/** A number (DID) answered by an auto-attendant; the attendant itself is sip-core's to resolve. */
export interface AttendantNumber {
  /** `+` and digits. */
  e164: string;
  numberId: string;
  autoAttendantId: string;
}

/** How a subscriber is presented as caller: its primary number, or anonymous under CLIR. */
export interface CallerPresentation {
  subscriberId: string;
  /** Primary number (`+` and digits) even under CLIR, for the network-asserted identity; null if none. */
  number: string | null;
  clir: boolean;
  /** What the called party is shown: the primary number, `anonymous` under CLIR or without a number. */
  presented: string;
}

export interface LcrRequest {
  /** Callee as E.164 (with or without `+`). */
  callee: string;
  /** Caller as E.164, when known; rules with a caller pattern need it. */
  caller?: string | null;
  /** The calling subscriber: applies its allowed/blocked prefixes. */
  subscriberId?: string | null;
  /** Longest failover list wanted, at least 1 (default `DEFAULT_MAX_GATEWAYS`, 16). */
  maxGateways?: number;
}

export interface LcrResult {
  callee: string;
  caller: string | null;
  gateways: RouteTarget[];
}

/** Something left out of a snapshot at load time, with the reason (the loader logs these). */
export interface LoadProblem {
  kind: 'number' | 'rewrite-rule-set' | 'peering-rule' | 'subscriber' | 'peer-gateway';
  id: string;
  reason: string;
}

/**
 * A subscriber as a snapshot keeps it. Its domain is found by `data.domainId` and its presented
 * number is kept as the digits string that is also the number's key, so nothing here is a copy.
 */
interface SubscriberEntry {
  data: SubscriberData;
  /** Digits of the presented number (no `+`), or null. */
  primary: string | null;
}

/**
 * A number that rings a subscriber, as a snapshot keeps it: the rest of {@link NumberMapping} (the
 * `+` form, user, domain, URI) is derived on lookup from the subscriber, once per call, instead of
 * being held for every number (some 160 bytes per number at 100,000).
 */
interface NumberEntry {
  numberId: string;
  isPrimary: boolean;
  subscriber: SubscriberEntry;
}

/** An immutable, fully indexed snapshot. Lookups read one of these; reloads build a new one and swap it. */
class CompiledSnapshot {
  /** Digits -> the subscriber the number rings. */
  readonly numbers = new Map<string, NumberEntry>();
  /** Digits -> the hunt group the number rings. */
  readonly groupNumbers = new Map<string, HuntGroupNumber>();
  /** Digits -> the auto-attendant that answers the number. */
  readonly attendantNumbers = new Map<string, AttendantNumber>();
  readonly subscribers = new Map<string, SubscriberEntry>();
  /**
   * Domain (lower-cased) -> user -> subscriber. Nested rather than keyed by `user@domain`: the user
   * names are the subscribers' own strings, where a joined key was one more string per subscriber.
   */
  readonly subscribersByAor = new Map<string, Map<string, SubscriberEntry>>();
  readonly domainsByName = new Map<string, DomainData>();
  readonly domainsById = new Map<string, DomainData>();
  /** Each domain's dial plan with unset prefixes filled in from the country's metadata. */
  readonly dialPlans = new Map<string, DialPlan>();
  readonly ruleSets = new Map<string, CompiledRuleSet>();
  readonly peeringGroupRuleSets = new Map<string, string | null>();
  readonly lcr: LcrTable;
  readonly peerSources: PeerSourceTable;
  readonly problems: LoadProblem[] = [];

  /** While building: subscribers whose presented number is one flagged primary (not a stand-in). */
  private primaryFlagged: Set<SubscriberEntry> | undefined = new Set();

  constructor(data: NumberingData) {
    for (const domain of data.domains) {
      this.domainsById.set(domain.id, domain);
      this.domainsByName.set(domain.name.toLowerCase(), domain);
      if (!this.subscribersByAor.has(domain.name.toLowerCase()))
        this.subscribersByAor.set(domain.name.toLowerCase(), new Map());
      this.dialPlans.set(domain.id, resolveDialPlan(domain));
    }
    for (const subscriber of data.subscribers) {
      const domain = this.domainsById.get(subscriber.domainId);
      if (!domain) {
        this.problems.push({ kind: 'subscriber', id: subscriber.id, reason: 'its domain does not exist' });
        continue;
      }
      const entry: SubscriberEntry = { data: subscriber, primary: null };
      this.subscribers.set(subscriber.id, entry);
      this.subscribersByAor.get(domain.name.toLowerCase())!.set(subscriber.username, entry);
    }
    for (const number of data.numbers) this.addNumber(number);
    this.primaryFlagged = undefined;
    for (const set of data.rewriteRuleSets) {
      try {
        this.ruleSets.set(set.id, compileRuleSet(set));
      } catch (error) {
        // Provisioning validates rule sets; one that slipped in (older data, manual SQL) is left out
        // whole, so no call ever runs half a rule set or a rule that could misbehave.
        this.problems.push({ kind: 'rewrite-rule-set', id: set.id, reason: (error as Error).message });
      }
    }
    for (const group of data.peeringGroups) this.peeringGroupRuleSets.set(group.id, group.rewriteRuleSetId);
    this.lcr = buildLcrTable(data);
    for (const { ruleId, reason } of this.lcr.rejected)
      this.problems.push({ kind: 'peering-rule', id: ruleId, reason });
    this.peerSources = new PeerSourceTable(data.gateways, data.peeringGroups);
    for (const { gatewayId, entry } of this.peerSources.rejected)
      this.problems.push({
        kind: 'peer-gateway',
        id: gatewayId,
        reason: `trusted source "${printable(entry)}" is neither an IP address nor a CIDR block`,
      });
  }

  private addNumber(number: NumberData): void {
    if (number.huntGroupId) {
      this.addGroupNumber(number, number.huntGroupId);
      return;
    }
    if (number.autoAttendantId) {
      this.addAttendantNumber(number, number.autoAttendantId);
      return;
    }
    if (!number.subscriberId) return; // unassigned numbers of the pool map to nobody
    const subscriber = this.subscribers.get(number.subscriberId);
    if (!subscriber) {
      this.problems.push({ kind: 'number', id: number.id, reason: 'its subscriber does not exist' });
      return;
    }
    let digits: string;
    try {
      digits = parseE164(number.e164);
    } catch (error) {
      this.problems.push({ kind: 'number', id: number.id, reason: (error as Error).message });
      return;
    }
    const key = flat(digits);
    this.numbers.set(key, { numberId: number.id, isPrimary: number.isPrimary, subscriber });
    // The primary number is presented; without one flagged, the first number assigned stands in.
    // (Hunt groups' numbers never are: they have their own map.)
    const flagged = this.primaryFlagged!;
    if (number.isPrimary && !flagged.has(subscriber)) {
      subscriber.primary = key;
      flagged.add(subscriber);
    } else if (subscriber.primary === null) {
      subscriber.primary = key;
    }
  }

  private addGroupNumber(number: NumberData, huntGroupId: string): void {
    const digits = this.digitsOf(number);
    if (digits !== null)
      this.groupNumbers.set(digits, { e164: `+${digits}`, numberId: number.id, huntGroupId });
  }

  private addAttendantNumber(number: NumberData, autoAttendantId: string): void {
    const digits = this.digitsOf(number);
    if (digits !== null) {
      this.attendantNumbers.set(digits, { e164: `+${digits}`, numberId: number.id, autoAttendantId });
    }
  }

  /** The number's digits, or null (a problem recorded) when it is no valid E.164 number. */
  private digitsOf(number: NumberData): string | null {
    try {
      return parseE164(number.e164);
    } catch (error) {
      this.problems.push({ kind: 'number', id: number.id, reason: (error as Error).message });
      return null;
    }
  }
}

/**
 * The string as one flat copy. A template literal makes a chain of V8 cons strings (32 bytes per
 * piece, and a flat copy besides once it is hashed as a key) and a substring of 13 characters or more
 * points into its parent: at a million numbers the flat copies are some 100 MB less.
 */
function flat(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

/**
 * The in-memory numbering index. All lookups are synchronous Map reads on the current snapshot, so a call
 * never waits on SQL; {@link NumberingIndex.replace} swaps in a new snapshot atomically (a lookup sees
 * either the old or the new data, never a mix).
 */
export class NumberingIndex {
  private snapshot: CompiledSnapshot;
  private snapshotVersion = 0;
  private readonly rng: Rng;

  constructor(data: NumberingData = emptyNumberingData(), options: { rng?: Rng } = {}) {
    this.rng = options.rng ?? Math.random;
    this.snapshot = new CompiledSnapshot(data);
  }

  /** Builds a snapshot from `data` and makes it current. Returns what was left out and why. */
  replace(data: NumberingData): LoadProblem[] {
    const next = new CompiledSnapshot(data);
    this.snapshot = next;
    this.snapshotVersion += 1;
    return next.problems;
  }

  /** Increases by one with every {@link replace}. */
  get version(): number {
    return this.snapshotVersion;
  }

  get size(): { numbers: number; subscribers: number; peeringRules: number } {
    let peeringRules = 0;
    for (const list of this.snapshot.lcr.byPrefix.values()) peeringRules += list.length;
    return { numbers: this.snapshot.numbers.size, subscribers: this.snapshot.subscribers.size, peeringRules };
  }

  /** Number -> SIP URI. Accepts E.164 with or without `+`; null for numbers nobody has. */
  lookupNumber(number: string): NumberMapping | null {
    const digits = number.startsWith('+') ? number.slice(1) : number;
    const entry = this.snapshot.numbers.get(digits);
    if (!entry) return null;
    const subscriber = entry.subscriber.data;
    const domain = this.snapshot.domainsById.get(subscriber.domainId)!.name;
    return {
      e164: `+${digits}`,
      numberId: entry.numberId,
      isPrimary: entry.isPrimary,
      subscriberId: subscriber.id,
      username: subscriber.username,
      domain,
      uri: `sip:${subscriber.username}@${domain}`,
    };
  }

  /** Number -> the hunt group it rings (E.164 with or without `+`); null when it rings none. */
  lookupHuntGroupNumber(number: string): HuntGroupNumber | null {
    const digits = number.startsWith('+') ? number.slice(1) : number;
    return this.snapshot.groupNumbers.get(digits) ?? null;
  }

  /** Number -> the auto-attendant that answers it (E.164 with or without `+`); null when none does. */
  lookupAttendantNumber(number: string): AttendantNumber | null {
    const digits = number.startsWith('+') ? number.slice(1) : number;
    return this.snapshot.attendantNumbers.get(digits) ?? null;
  }

  /**
   * SIP URI (or user + domain) -> caller presentation. Null for unknown subscribers.
   * Accepts `sip:user@domain`, `sips:user@domain;params` or `user@domain`.
   */
  presentCaller(uri: string): CallerPresentation | null {
    const match = /^(?:sips?:)?([^@;?]+)@([^;?>:]+)/i.exec(uri.trim());
    if (!match) return null;
    const entry = this.snapshot.subscribersByAor.get(match[2]!.toLowerCase())?.get(decodeUser(match[1]!));
    return entry ? presentation(entry) : null;
  }

  /**
   * The subscriber's id and username strings as this index holds them, for another index in the same
   * process to share instead of keeping copies (sip-core's directory: some 190 bytes per subscriber).
   */
  subscriberStrings(subscriberId: string): { readonly id: string; readonly username: string } | undefined {
    return this.snapshot.subscribers.get(subscriberId)?.data;
  }

  presentSubscriber(subscriberId: string): CallerPresentation | null {
    const entry = this.snapshot.subscribers.get(subscriberId);
    return entry ? presentation(entry) : null;
  }

  /** The dial plan for a domain (by name), with a subscriber's area code override when given. */
  dialPlan(domainName: string, subscriberId?: string | null): DialPlan {
    const domain = this.snapshot.domainsByName.get(domainName.toLowerCase());
    if (!domain) throw new NumberingError('unknown-domain', `unknown domain "${printable(domainName)}"`);
    const plan = this.snapshot.dialPlans.get(domain.id)!;
    const subscriber = subscriberId ? this.snapshot.subscribers.get(subscriberId) : undefined;
    return subscriber?.data.areaCode ? { ...plan, areaCode: subscriber.data.areaCode } : plan;
  }

  /** Normalises what someone in `domainName` dialled (see {@link normaliseNumber}). */
  normalise(domainName: string, number: string, subscriberId?: string | null): NormalisedNumber {
    return normaliseNumber(number, this.dialPlan(domainName, subscriberId));
  }

  /** The rewrite rule set for a subscriber (its own, else its domain's). */
  subscriberRuleSet(subscriberId: string): CompiledRuleSet | null {
    const entry = this.snapshot.subscribers.get(subscriberId);
    if (!entry) return null;
    const id =
      entry.data.rewriteRuleSetId ?? this.snapshot.domainsById.get(entry.data.domainId)!.rewriteRuleSetId;
    return id ? (this.snapshot.ruleSets.get(id) ?? null) : null;
  }

  peeringGroupRuleSet(groupId: string): CompiledRuleSet | null {
    const id = this.snapshot.peeringGroupRuleSets.get(groupId);
    return id ? (this.snapshot.ruleSets.get(id) ?? null) : null;
  }

  ruleSet(ruleSetId: string): CompiledRuleSet | null {
    return this.snapshot.ruleSets.get(ruleSetId) ?? null;
  }

  /**
   * Variables for rules running on behalf of a subscriber: its dial plan as `cc`/`ac`/`np`/`ip`, and as
   * caller its own country code, area code, primary number and user name.
   */
  subscriberVariables(subscriberId: string): RewriteVariables {
    const entry = this.snapshot.subscribers.get(subscriberId);
    if (!entry) return {};
    const plan = this.snapshot.dialPlans.get(entry.data.domainId)!;
    const areaCode = entry.data.areaCode ?? plan.areaCode ?? '';
    return {
      cc: plan.countryCode,
      ac: areaCode,
      np: plan.nationalPrefix,
      ip: plan.internationalPrefix,
      caller_cc: plan.countryCode,
      caller_ac: areaCode,
      caller_number: entry.primary ?? '',
      caller_user: entry.data.username,
    };
  }

  /** Rewrites a field with a subscriber's rule set (see {@link applyRewrite}). */
  rewriteForSubscriber(
    subscriberId: string,
    direction: RewriteDirection,
    field: RewriteField,
    value: string,
    extra: RewriteVariables = {},
  ): RewriteResult {
    const variables = { ...this.subscriberVariables(subscriberId), ...extra };
    return applyRewrite(this.subscriberRuleSet(subscriberId), direction, field, value, variables);
  }

  /** Rewrites a field with a peering group's rule set. */
  rewriteForPeer(
    groupId: string,
    direction: RewriteDirection,
    field: RewriteField,
    value: string,
    variables: RewriteVariables = {},
  ): RewriteResult {
    return applyRewrite(this.peeringGroupRuleSet(groupId), direction, field, value, variables);
  }

  /**
   * The peer gateway a request's source address belongs to (its IP-literal host or one of its trusted
   * sources; enabled gateways of enabled groups only), or null. See {@link PeerSourceTable}.
   */
  identifyPeer(address: string): PeerSource | null {
    return this.snapshot.peerSources.lookup(address);
  }

  /**
   * Least-cost routing for a call to the phone network: the gateways to try in order (see
   * {@link selectRoutes}). Throws `invalid-number` for a callee that is not E.164, `blocked` when the
   * subscriber may not call it, `no-route` when no peering rule matches.
   */
  routeCall(request: LcrRequest): LcrResult {
    // Call-time path: a syntax check only; full validation happened when the number was normalised.
    const callee = e164Digits(request.callee);
    if (callee === null)
      throw new NumberingError(
        'invalid-number',
        `callee "${printable(request.callee)}" is not an E.164 number`,
      );
    const caller = request.caller ? e164Digits(request.caller) : null;
    if (request.caller && caller === null) {
      throw new NumberingError(
        'invalid-number',
        `caller "${printable(request.caller)}" is not an E.164 number`,
      );
    }
    if (request.subscriberId) {
      const entry = this.snapshot.subscribers.get(request.subscriberId);
      if (entry && !isCalleeAllowed(entry.data, callee)) {
        throw new NumberingError('blocked', `calls to +${callee} are barred for this subscriber`);
      }
    }
    const limit =
      request.maxGateways !== undefined && request.maxGateways >= 1
        ? Math.floor(request.maxGateways)
        : undefined;
    const gateways = selectRoutes(this.snapshot.lcr, callee, caller, this.rng, limit);
    if (gateways.length === 0) throw new NumberingError('no-route', `no peering rule routes +${callee}`);
    return { callee: `+${callee}`, caller: caller ? `+${caller}` : null, gateways };
  }
}

function presentation(entry: SubscriberEntry): CallerPresentation {
  const clir = entry.data.clir;
  const number = entry.primary === null ? null : `+${entry.primary}`;
  return { subscriberId: entry.data.id, number, clir, presented: clir || !number ? 'anonymous' : number };
}

function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
