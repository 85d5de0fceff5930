import { isPeak } from './peak.ts';
import type { DeckRate, RatingPlan } from './plan.ts';

/**
 * The rating function: a CDR and the in-memory plan in, the customer price, reseller price and carrier
 * cost out. Pure and synchronous (no I/O), so the rater and the bench run the same code.
 *
 * Charging (docs/billing.md): the billable seconds (duration rounded up to a whole second) are charged
 * in intervals: the first interval, then whole next intervals (60/60 charges by the minute, 1/1 by the
 * second, 30/6 thirty seconds then by six). Price = setup fee + billed seconds x rate per minute / 60,
 * rounded half up to a micro-unit once per call. Peak or off-peak is decided by the call's start.
 */

export interface CdrToRate {
  id: string;
  direction: 'internal' | 'outbound' | 'inbound';
  answered: boolean;
  startedAt: number;
  durationMs: number;
  calleeDialled: string;
  calleeRouted: string | null;
  callerCustomerId: string | null;
  peerGatewayId: string | null;
}

export interface SidePrice {
  micros: number;
  currency: string;
  zone: string | null;
}

export interface Rating {
  status: 'rated' | 'unrateable';
  error: string | null;
  number: string | null;
  customer: SidePrice | null;
  reseller: SidePrice | null;
  carrier: SidePrice | null;
}

/** Seconds charged for a call of `seconds` under a rate's intervals. */
export function billedSeconds(seconds: number, first: number, next: number): number {
  if (seconds <= 0) return 0;
  if (seconds <= first) return first;
  return first + Math.ceil((seconds - first) / next) * next;
}

/** The charge in micros of one rate for a call lasting `seconds`. */
export function charge(rate: DeckRate, seconds: number, peak: boolean): number {
  const billed = billedSeconds(seconds, rate.firstInterval, rate.nextInterval);
  const perMinute = peak ? rate.peakMicros : rate.offPeakMicros;
  // Integer half-up rounding of billed * perMinute / 60 (both non-negative).
  return rate.setupMicros + Math.floor((billed * perMinute + 30) / 60);
}

/** The destination digits of a CDR: the routed callee (after rewriting), `+` and URI parts removed. */
export function destinationOf(cdr: Pick<CdrToRate, 'calleeDialled' | 'calleeRouted'>): string | null {
  let target = cdr.calleeRouted ?? cdr.calleeDialled;
  if (isDigits(target, 0)) return target;
  if (target.charCodeAt(0) === 43 /* + */ && isDigits(target, 1)) return target.slice(1);
  const colon = target.indexOf(':');
  if (colon >= 0 && /^(sips?|tel):/i.test(target)) {
    target = target.slice(colon + 1);
    const end = target.search(/[@;]/);
    if (end >= 0) target = target.slice(0, end);
  }
  if (target.startsWith('+')) target = target.slice(1);
  return isDigits(target, 0) ? target : null;
}

/** 1 to 32 digits from `from` to the end (the common case, without a regular expression). */
function isDigits(s: string, from: number): boolean {
  const length = s.length - from;
  if (length < 1 || length > 32) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A rate's own validity dates (inside its deck) around the call's start. */
const validAt = (r: DeckRate, at: number): boolean =>
  (r.effectiveFrom === null || r.effectiveFrom <= at) && (r.effectiveTo === null || at < r.effectiveTo);

/** One side's price, null when the side has no profile, or the reason it cannot be priced. */
function priceSide(
  plan: RatingPlan,
  profileId: string | null | undefined,
  cdr: CdrToRate,
  number: string | null,
): SidePrice | null | string {
  if (profileId === null || profileId === undefined) return null;
  const profile = plan.profiles.get(profileId);
  if (profile === undefined) return `billing profile ${profileId} not found`;
  if (!cdr.answered || cdr.direction === 'internal')
    return { micros: 0, currency: profile.currency, zone: null };
  if (number === null) return `destination ${cdr.calleeRouted ?? cdr.calleeDialled} is not a number`;
  const deck = plan.deckAt(profile, cdr.startedAt);
  if (deck === undefined) return `profile ${profile.name} has no rate deck in effect at the call's start`;
  const trie = plan.decks.get(deck.id);
  if (trie === undefined) throw new Error(`deck ${deck.id} not loaded`);
  const rate = trie.longest(number, validAt, cdr.startedAt);
  if (rate === undefined) return `no zone of profile ${profile.name} matches ${number}`;
  const seconds = Math.ceil(cdr.durationMs / 1000);
  const peak = isPeak(profile.clock, profile.peak, cdr.startedAt);
  return { micros: charge(rate, seconds, peak), currency: profile.currency, zone: rate.zone };
}

/**
 * Rates one CDR. Each side with a profile is priced; a side without a profile (a customer not linked
 * to one, an inbound call) gets null. A side whose profile cannot price the call (no deck in effect,
 * no zone matches) makes the CDR `unrateable` with the reason; the sides that could be priced are kept.
 */
export function rateCdr(plan: RatingPlan, cdr: CdrToRate): Rating {
  const number = destinationOf(cdr);
  const { customers, resellers, gateways } = plan.accounts;
  const customer = cdr.callerCustomerId === null ? undefined : customers.get(cdr.callerCustomerId);
  const resellerId = customer?.resellerId;
  const rating: Rating = {
    status: 'rated',
    error: null,
    number,
    customer: null,
    reseller: null,
    carrier: null,
  };
  // Three sides, no array of them: this runs once per CDR (the bench: a million times in seconds).
  const customerSide = priceSide(plan, customer?.profileId, cdr, number);
  const resellerSide = priceSide(plan, resellerId ? resellers.get(resellerId) : null, cdr, number);
  const carrierSide =
    cdr.direction === 'outbound' && cdr.peerGatewayId !== null
      ? priceSide(plan, gateways.get(cdr.peerGatewayId), cdr, number)
      : null;
  let error: string | null = null;
  if (typeof customerSide === 'string') error = customerSide;
  else rating.customer = customerSide;
  if (typeof resellerSide === 'string') error = error === null ? resellerSide : `${error}; ${resellerSide}`;
  else rating.reseller = resellerSide;
  if (typeof carrierSide === 'string') error = error === null ? carrierSide : `${error}; ${carrierSide}`;
  else rating.carrier = carrierSide;
  if (error !== null) {
    rating.status = 'unrateable';
    rating.error = error;
  }
  return rating;
}
