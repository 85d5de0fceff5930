import type { NumberingIndex, RewriteField, RewriteVariables } from '@switchboard/numbering';

/**
 * The rewrite steps of a call (docs/numbering.md, "Rewrite rules"), one function per direction, so the
 * invite handler reads as the order they run in: `inbound_from_peer` or `from_subscriber` before the
 * callee is looked up, `to_subscriber` before the callee's devices are rung, `outbound_to_peer` after
 * the gateway is chosen (in the invite handler itself). Without a numbering index nothing is rewritten.
 */

export interface Rewritten {
  value: string;
  /** A rule matched (the value may still be unchanged, if the rule said so). */
  matched: boolean;
}

const unchanged = (value: string): Rewritten => ({ value, matched: false });

/**
 * The dial plan of a domain of ours as rule variables (`cc`, `ac`, `np`, `ip`): a peer's call is
 * addressed to one of our domains, whose numbering conventions its rules may use. None for a domain
 * that is not ours.
 */
export function domainVariables(numbering: NumberingIndex, domain: string | undefined): RewriteVariables {
  if (!domain) return {};
  try {
    const plan = numbering.dialPlan(domain);
    return {
      cc: plan.countryCode,
      ac: plan.areaCode ?? '',
      np: plan.nationalPrefix,
      ip: plan.internationalPrefix,
    };
  } catch {
    return {};
  }
}

/** `inbound_from_peer` of the peering group's rule set: the peer's number format to ours. */
export function rewriteFromPeer(
  numbering: NumberingIndex | undefined,
  groupId: string | undefined,
  field: RewriteField,
  value: string,
  variables: RewriteVariables,
): Rewritten {
  if (!numbering || !groupId || value === '') return unchanged(value);
  const result = numbering.rewriteForPeer(groupId, 'inbound_from_peer', field, value, variables);
  return { value: result.output, matched: result.matchedRuleId !== null };
}

/** `from_subscriber` of the calling subscriber's rule set (its own, else its domain's). */
export function rewriteFromSubscriber(
  numbering: NumberingIndex | undefined,
  subscriberId: string,
  field: RewriteField,
  value: string,
): Rewritten {
  if (!numbering || value === '') return unchanged(value);
  const result = numbering.rewriteForSubscriber(subscriberId, 'from_subscriber', field, value);
  return { value: result.output, matched: result.matchedRuleId !== null };
}

/** `to_subscriber` of the called subscriber's rule set: what its phones are shown. */
export function rewriteToSubscriber(
  numbering: NumberingIndex | undefined,
  subscriberId: string,
  field: RewriteField,
  value: string,
): Rewritten {
  if (!numbering || value === '') return unchanged(value);
  const result = numbering.rewriteForSubscriber(subscriberId, 'to_subscriber', field, value);
  return { value: result.output, matched: result.matchedRuleId !== null };
}

/**
 * A number as a peer or a rule wrote it, as E.164 with `+`: a leading `+` or `00` is dropped, the rest
 * must be 3 to 15 digits. Null for anything else.
 */
export function asE164(value: string): string | null {
  const digits = value.replace(/^\+/, '').replace(/^00/, '');
  return /^\d{3,15}$/.test(digits) ? `+${digits}` : null;
}
