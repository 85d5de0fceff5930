import { LocalClock, type PeakPeriod } from './peak.ts';
import { PrefixTrie } from './prefix-trie.ts';

/**
 * What the rater keeps in memory: every billing profile with its deck versions, the rates of the decks
 * it needed so far (a prefix trie per deck), and who is linked to which profile. Amounts are micros
 * (money.ts).
 */

export interface DeckRate {
  prefix: string;
  zone: string;
  setupMicros: number;
  /** Per minute. */
  peakMicros: number;
  offPeakMicros: number;
  firstInterval: number;
  nextInterval: number;
  /** Validity inside the deck, epoch ms; null: open. */
  effectiveFrom: number | null;
  effectiveTo: number | null;
}

export interface DeckVersion {
  id: string;
  version: number;
  effectiveFrom: number;
}

export interface ProfileInfo {
  id: string;
  name: string;
  currency: string;
  clock: LocalClock;
  peak: PeakPeriod[];
  /** Newest `effectiveFrom` first. */
  decks: DeckVersion[];
}

export interface Accounts {
  /** Customer id -> its sell profile and reseller. */
  customers: Map<string, { profileId: string | null; resellerId: string | null }>;
  /** Reseller id -> its sell profile. */
  resellers: Map<string, string | null>;
  /** Peer gateway id -> the cost profile of its peering group. */
  gateways: Map<string, string | null>;
}

export type DeckTrie = PrefixTrie<DeckRate>;

export class RatingPlan {
  readonly profiles = new Map<string, ProfileInfo>();
  readonly decks = new Map<string, DeckTrie>();
  accounts: Accounts = { customers: new Map(), resellers: new Map(), gateways: new Map() };

  addProfile(p: { id: string; name: string; currency: string; timeZone: string; peak: PeakPeriod[] }): void {
    this.profiles.set(p.id, { ...p, clock: new LocalClock(p.timeZone), decks: [] });
  }

  addDeckVersion(profileId: string, deck: DeckVersion): void {
    const profile = this.profiles.get(profileId);
    if (profile === undefined) return;
    profile.decks.push(deck);
    profile.decks.sort((a, b) => b.effectiveFrom - a.effectiveFrom || b.version - a.version);
  }

  setDeckRates(deckId: string, rates: Iterable<DeckRate>): void {
    const trie: DeckTrie = new PrefixTrie();
    for (const rate of rates) trie.set(rate.prefix, rate);
    this.decks.set(deckId, trie);
  }

  /** The deck version that rates a call of this profile started at `epochMs`. */
  deckAt(profile: ProfileInfo, epochMs: number): DeckVersion | undefined {
    for (const deck of profile.decks) if (deck.effectiveFrom <= epochMs) return deck;
    return undefined;
  }
}

/** Builds a trie of rates from a list (the bench and tests). */
export function trieOf(rates: Iterable<DeckRate>): DeckTrie {
  const trie: DeckTrie = new PrefixTrie();
  for (const rate of rates) trie.set(rate.prefix, rate);
  return trie;
}
