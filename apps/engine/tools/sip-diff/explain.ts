import type { Difference, DifferenceKind } from './diff.ts';

/**
 * Why a difference between the engine and drachtio-server exists. Every difference the differential run finds
 * must match one of these, or the report lists it as unexplained and the command fails.
 */
export interface Explanation {
  /** Short stable name, used as the anchor in the report and in docs/engine.md. */
  id: string;
  /** `intended`: we differ on purpose; `harmless`: both are correct SIP and no peer can tell. */
  verdict: 'intended' | 'harmless';
  reason: string;
  match: {
    kind?: DifferenceKind[];
    /** The header, or headers matching this. */
    header?: string | RegExp;
    /** Tested against the message key (`server -> peer1 200 (INVITE)`). */
    message?: RegExp;
    scenario?: RegExp;
    engine?: RegExp;
    reference?: RegExp;
    /**
     * The difference is only this: both values are equal once this function rewrote them (it removes the
     * part explained, e.g. one parameter), so nothing else may hide behind the explanation.
     */
    equalAfter?: (value: string) => string;
  };
}

export function explain(
  difference: Difference,
  explanations: readonly Explanation[],
): Explanation | undefined {
  return explanations.find(({ match }) => {
    if (match.kind && !match.kind.includes(difference.kind)) return false;
    if (typeof match.header === 'string' && match.header !== difference.header) return false;
    if (match.header instanceof RegExp && !match.header.test(difference.header ?? '')) return false;
    if (match.message && !match.message.test(difference.message ?? '')) return false;
    if (match.scenario && !match.scenario.test(difference.scenario)) return false;
    if (match.engine && !match.engine.test(difference.engine ?? '')) return false;
    if (match.reference && !match.reference.test(difference.reference ?? '')) return false;
    if (
      match.equalAfter &&
      match.equalAfter(difference.engine ?? '') !== match.equalAfter(difference.reference ?? '')
    )
      return false;
    return true;
  });
}
