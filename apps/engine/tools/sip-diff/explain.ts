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
    header?: string;
    /** Tested against the message key (`server -> peer1 200 (INVITE)`). */
    message?: RegExp;
    scenario?: RegExp;
    engine?: RegExp;
    reference?: RegExp;
  };
}

export function explain(difference: Difference, explanations: readonly Explanation[]): Explanation | undefined {
  return explanations.find(({ match }) => {
    if (match.kind && !match.kind.includes(difference.kind)) return false;
    if (match.header !== undefined && match.header !== difference.header) return false;
    if (match.message && !match.message.test(difference.message ?? '')) return false;
    if (match.scenario && !match.scenario.test(difference.scenario)) return false;
    if (match.engine && !match.engine.test(difference.engine ?? '')) return false;
    if (match.reference && !match.reference.test(difference.reference ?? '')) return false;
    return true;
  });
}
