/**
 * The numbering snapshot: everything the number mapper needs, read from the database in one go and
 * indexed in memory. The loader maps Prisma rows onto these shapes; tests build them by hand.
 */

/** A SIP domain with its dialling defaults (used to complete what its subscribers dial). */
export interface DomainData {
  id: string;
  /** SIP domain, e.g. `example.com`. */
  name: string;
  /** Country calling code without `+`, e.g. `43`; null: only international dialling is understood. */
  countryCode: string | null;
  /** National (trunk) prefix, e.g. `0`; null: the country's from libphonenumber's metadata. */
  nationalPrefix: string | null;
  /** International (exit) prefix, e.g. `00`; null: the country's. `+` is always accepted as well. */
  internationalPrefix: string | null;
  /** Area code without national prefix for short local dialling, e.g. `1` (Vienna); null if none. */
  areaCode: string | null;
  /** Rewrite rule set applied to this domain's subscribers unless a subscriber has its own. */
  rewriteRuleSetId: string | null;
}

export interface SubscriberData {
  id: string;
  domainId: string;
  /** SIP user part; the SIP URI is `sip:<username>@<domain name>`. */
  username: string;
  /** Calling line identification restriction: present this subscriber as anonymous. */
  clir: boolean;
  /** Overrides the domain's area code for this subscriber's short local dialling (not in the database yet). */
  areaCode: string | null;
  rewriteRuleSetId: string | null;
  /** E.164 prefixes (digits, no `+`) this subscriber may call; empty means everything not blocked. */
  allowedCalleePrefixes: string[];
  /** E.164 prefixes (digits, no `+`) this subscriber may not call. */
  blockedCalleePrefixes: string[];
}

/** A DID or alias number. Exactly one number per subscriber should be primary (the presented one). */
export interface NumberData {
  id: string;
  /** E.164 with or without `+`; stored in the index as digits only. */
  e164: string;
  subscriberId: string | null;
  /** A number that rings a hunt group instead of a subscriber (then subscriberId is null). */
  huntGroupId?: string | null;
  /** A number answered by an auto-attendant (then subscriberId is null). */
  autoAttendantId?: string | null;
  isPrimary: boolean;
}

/**
 * Where a rewrite rule applies, seen from the platform:
 * - `inbound_from_peer`: a call arriving from a peer (normalise the peer's format to E.164),
 * - `outbound_to_peer`: a call leaving to a peer (E.164 to the peer's format),
 * - `from_subscriber`: a call placed by a subscriber (what the subscriber dialled, to E.164),
 * - `to_subscriber`: a call delivered to a subscriber (E.164 to what the phone shows).
 */
export type RewriteDirection = 'inbound_from_peer' | 'outbound_to_peer' | 'from_subscriber' | 'to_subscriber';
export const REWRITE_DIRECTIONS: readonly RewriteDirection[] = [
  'inbound_from_peer',
  'outbound_to_peer',
  'from_subscriber',
  'to_subscriber',
];

export type RewriteField = 'caller' | 'callee';
export const REWRITE_FIELDS: readonly RewriteField[] = ['caller', 'callee'];

export interface RewriteRuleData {
  id: string;
  direction: RewriteDirection;
  field: RewriteField;
  /** Regular expression (RE2 subset of ECMAScript syntax); may contain `${variable}`s. */
  matchPattern: string;
  /** Replacement for the matched text: `$1`, `${1}`, `$$` and `${variable}`s. */
  replacement: string;
  /** Lower runs first. Ties keep the order given. */
  priority: number;
  enabled: boolean;
}

export interface RewriteRuleSetData {
  id: string;
  name: string;
  rules: RewriteRuleData[];
}

export interface PeeringGroupData {
  id: string;
  name: string;
  /** Lower is tried first among rules of the same prefix length. */
  priority: number;
  enabled: boolean;
  /** Rule set for calls to and from this peer (`outbound_to_peer`, `inbound_from_peer` rules). */
  rewriteRuleSetId: string | null;
}

export type GatewayTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export interface GatewayData {
  id: string;
  groupId: string;
  name: string;
  host: string;
  port: number;
  transport: GatewayTransport;
  /** Lower is tried first within its group. */
  priority: number;
  /** Relative share of calls among gateways of equal priority; 0: after every positive-weight one. */
  weight: number;
  enabled: boolean;
  /**
   * Source addresses (IP or CIDR) whose requests come from this peer, besides `host` when that is an
   * IP literal. Absent: none.
   */
  trustedSources?: string[];
}

export interface PeeringRuleData {
  id: string;
  groupId: string;
  /** E.164 digits the callee must start with; empty matches every callee. */
  calleePrefix: string;
  /** Optional regular expression the caller's E.164 digits must match. */
  callerPattern: string | null;
  /** Lower first among rules of the same prefix length (before the group priority). */
  priority: number;
  enabled: boolean;
}

export interface NumberingData {
  domains: DomainData[];
  subscribers: SubscriberData[];
  numbers: NumberData[];
  rewriteRuleSets: RewriteRuleSetData[];
  peeringGroups: PeeringGroupData[];
  gateways: GatewayData[];
  peeringRules: PeeringRuleData[];
}

export function emptyNumberingData(): NumberingData {
  return {
    domains: [],
    subscribers: [],
    numbers: [],
    rewriteRuleSets: [],
    peeringGroups: [],
    gateways: [],
    peeringRules: [],
  };
}
