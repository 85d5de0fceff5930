import type { NormalisedMessage, NormalisedScenario } from './normalise.ts';

/**
 * Differences between two servers' normalised runs of the same scenarios: flows (Call-IDs) are paired by
 * their first message, messages inside a pair of flows are aligned by their key (longest common
 * subsequence, so one extra message does not shift every later one), and aligned messages are compared
 * start line, header by header and body.
 */

export type DifferenceKind =
  | 'missing-scenario'
  | 'extra-scenario'
  | 'missing-flow'
  | 'extra-flow'
  | 'missing-message'
  | 'extra-message'
  | 'start-line'
  | 'header'
  | 'body';

export interface Difference {
  scenario: string;
  kind: DifferenceKind;
  /** Flow label in the engine's run (the reference's for a missing flow). */
  flow?: string;
  /** Key of the message concerned, e.g. `server -> peer1 200 (INVITE)`. */
  message?: string;
  header?: string;
  /** What the engine sent (`(absent)` when it did not), and what the reference server sent. */
  engine?: string;
  reference?: string;
}

export const ABSENT = '(absent)';

export function diffRuns(engine: NormalisedScenario[], reference: NormalisedScenario[]): Difference[] {
  const out: Difference[] = [];
  const refByName = new Map(reference.map((s) => [s.scenario, s]));
  const engineNames = new Set(engine.map((s) => s.scenario));
  for (const scenario of engine) {
    const ref = refByName.get(scenario.scenario);
    if (!ref) out.push({ scenario: scenario.scenario, kind: 'extra-scenario' });
    else out.push(...diffScenario(scenario, ref));
  }
  for (const ref of reference) {
    if (!engineNames.has(ref.scenario)) out.push({ scenario: ref.scenario, kind: 'missing-scenario' });
  }
  return out;
}

interface Flow {
  label: string;
  messages: NormalisedMessage[];
  signature: string;
}

/**
 * A flow is one leg of one call: the messages of one Call-ID between one pair of parties. Inside a leg order
 * is meaningful; between the legs of a proxy or B2BUA it is a race, so legs are aligned separately.
 */
function flows(scenario: NormalisedScenario): Flow[] {
  const byLabel = new Map<string, NormalisedMessage[]>();
  for (const m of scenario.messages) {
    const label = `${m.flow} ${m.direction.split(' -> ').sort().join(' <-> ')}`;
    const list = byLabel.get(label) ?? [];
    list.push(m);
    byLabel.set(label, list);
  }
  return [...byLabel].map(([label, messages]) => {
    const first = messages[0] as NormalisedMessage;
    return { label, messages, signature: `${first.key} ${first.startLine}` };
  });
}

export function diffScenario(engine: NormalisedScenario, reference: NormalisedScenario): Difference[] {
  const out: Difference[] = [];
  const scenario = engine.scenario;
  const refFlows = flows(reference);
  const used = new Set<Flow>();
  for (const flow of flows(engine)) {
    const match = refFlows.find((f) => !used.has(f) && f.signature === flow.signature);
    if (!match) {
      out.push({ scenario, kind: 'extra-flow', flow: flow.label, message: flow.signature });
      continue;
    }
    used.add(match);
    out.push(...diffFlow(scenario, flow.label, flow.messages, match.messages));
  }
  for (const flow of refFlows) {
    if (!used.has(flow))
      out.push({ scenario, kind: 'missing-flow', flow: flow.label, message: flow.signature });
  }
  return out;
}

function diffFlow(
  scenario: string,
  flow: string,
  a: NormalisedMessage[],
  b: NormalisedMessage[],
): Difference[] {
  const out: Difference[] = [];
  for (const step of pairRaces(align(a, b), scenario, flow)) {
    if (step.a && step.b) out.push(...diffMessage(scenario, flow, step.a, step.b));
    else if (step.a) out.push({ scenario, flow, kind: 'extra-message', message: step.a.key });
    else if (step.b) out.push({ scenario, flow, kind: 'missing-message', message: step.b.key });
  }
  return out;
}

interface Step {
  a?: NormalisedMessage;
  b?: NormalisedMessage;
}

/**
 * Consecutive messages of the same key may have raced (the 180s of two forked branches relayed upstream):
 * inside such a run, each message of the engine is paired with the reference's message it differs from
 * least, not simply the next one.
 */
function pairRaces(steps: Step[], scenario: string, flow: string): Step[] {
  const out: Step[] = [];
  let i = 0;
  while (i < steps.length) {
    const key = steps[i]?.a?.key;
    let j = i;
    while (j < steps.length && steps[j]?.a && steps[j]?.b && steps[j]?.a?.key === key) j++;
    if (j - i < 2) {
      out.push(steps[i] as Step);
      i++;
      continue;
    }
    const left = steps.slice(i, j).map((s) => s.b as NormalisedMessage);
    for (const step of steps.slice(i, j)) {
      const a = step.a as NormalisedMessage;
      const cost = (m: NormalisedMessage) => diffMessage(scenario, flow, a, m).length;
      let best = 0;
      for (let k = 1; k < left.length; k++) {
        if (cost(left[k] as NormalisedMessage) < cost(left[best] as NormalisedMessage)) best = k;
      }
      out.push({ a, b: left.splice(best, 1)[0] as NormalisedMessage });
    }
    i = j;
  }
  return out;
}

/** Longest common subsequence of the two key sequences (flows are short: tens of messages). */
export function align(a: NormalisedMessage[], b: NormalisedMessage[]): Step[] {
  const n = a.length;
  const m = b.length;
  const table: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = table[i] as number[];
      row[j] =
        a[i]?.key === b[j]?.key
          ? ((table[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((table[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i]?.key === b[j]?.key) steps.push({ a: a[i++], b: b[j++] });
    else if (((table[i + 1] as number[])[j] as number) >= ((table[i] as number[])[j + 1] as number))
      steps.push({ a: a[i++] });
    else steps.push({ b: b[j++] });
  }
  while (i < n) steps.push({ a: a[i++] });
  while (j < m) steps.push({ b: b[j++] });
  return steps;
}

function diffMessage(
  scenario: string,
  flow: string,
  a: NormalisedMessage,
  b: NormalisedMessage,
): Difference[] {
  const out: Difference[] = [];
  const message = a.key;
  if (a.startLine !== b.startLine) {
    out.push({ scenario, flow, kind: 'start-line', message, engine: a.startLine, reference: b.startLine });
  }
  const names = new Set([...a.headers.keys(), ...b.headers.keys()]);
  for (const header of [...names].sort()) {
    const av = a.headers.get(header);
    const bv = b.headers.get(header);
    const engine = av ? av.join(' | ') : ABSENT;
    const reference = bv ? bv.join(' | ') : ABSENT;
    if (engine !== reference)
      out.push({ scenario, flow, kind: 'header', message, header, engine, reference });
  }
  if (a.body !== b.body)
    out.push({ scenario, flow, kind: 'body', message, engine: a.body, reference: b.body });
  return out;
}
