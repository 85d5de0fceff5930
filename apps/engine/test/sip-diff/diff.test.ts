import { describe, expect, it } from 'vitest';
import { diffRuns } from '../../tools/sip-diff/diff.ts';
import type { Explanation } from '../../tools/sip-diff/explain.ts';
import { EXPLANATIONS } from '../../tools/sip-diff/explanations.ts';
import { normaliseScenario } from '../../tools/sip-diff/normalise.ts';
import { renderReport } from '../../tools/sip-diff/report.ts';
import { fixture } from './fixtures.ts';

const engine = fixture('engine').scenarios.map(normaliseScenario);
const reference = fixture('reference').scenarios.map(normaliseScenario);
const SIMULTANEOUS = 'contract: over UDP > proxyRequest simultaneous: the losing fork is cancelled';

describe('diffRuns', () => {
  it('finds nothing between a run and itself', () => {
    expect(diffRuns(engine, engine)).toEqual([]);
  });

  it('reports a scenario only one side ran', () => {
    const diffs = diffRuns(engine.slice(0, 1), reference.slice(1));
    expect(diffs.filter((d) => d.kind.endsWith('-scenario')).map((d) => d.kind)).toEqual([
      'extra-scenario',
      'missing-scenario',
    ]);
  });

  it('lists the recorded differences: header values, and a message only one server sent', () => {
    const diffs = diffRuns(engine, reference);
    // drachtio-server (sofia-sip) reads the Request-URI's parameters as To header parameters
    expect(diffs).toContainEqual({
      scenario: 'contract: over UDP > createUAC to a sipp UAS, BYE from the app',
      flow: 'call-1 peer1 <-> server',
      kind: 'header',
      message: 'server -> peer1 INVITE',
      header: 'To',
      engine: '<sip:callee@{peer1};transport=udp>',
      reference: '<sip:callee@{peer1}>;transport=udp',
    });
    // the engine ACKs the 487 of the cancelled branch (RFC 3261 §17.1.1.3); the recorded reference did not
    const extra = diffs.filter((d) => d.scenario === SIMULTANEOUS && d.kind === 'extra-message');
    expect(extra.map((d) => d.message)).toEqual(['server -> peer2 ACK']);
  });

  it('aligns the legs of a call separately, so a race between legs is no difference', () => {
    const diffs = diffRuns(engine, reference).filter((d) => d.scenario === SIMULTANEOUS);
    expect(diffs.filter((d) => d.kind === 'missing-message' || d.kind === 'missing-flow')).toEqual([]);
  });
});

describe('races between branches', () => {
  it('pairs same-kind messages by content, so two branches’ 180s relayed in the other order are no difference', () => {
    const recorded = fixture('reference');
    const swapped = structuredClone(recorded);
    const scenario = swapped.scenarios.find((s) => s.scenario === SIMULTANEOUS)!;
    // the two 180s the server relays to the caller, in the other order
    const relayed = scenario.messages.filter(
      (m) => m.raw.startsWith('SIP/2.0 180') && scenario.roles[m.src] === 'server',
    );
    expect(relayed).toHaveLength(2);
    const [first, second] = relayed as [(typeof relayed)[0], (typeof relayed)[0]];
    [first.time, second.time] = [second.time, first.time];
    const before = diffRuns(engine, recorded.scenarios.map(normaliseScenario));
    const after = diffRuns(engine, swapped.scenarios.map(normaliseScenario));
    expect(after).toEqual(before);
  });
});

describe('renderReport', () => {
  const input = {
    engine,
    reference,
    referenceName: 'drachtio-server test',
    date: '2026-01-01',
    command: 'sip-diff run',
    suites: ['recorded fixtures'],
  };

  it('lists every difference as unexplained when nothing explains it', () => {
    const differences = diffRuns(engine, reference);
    const report = renderReport({ ...input, differences, explanations: [] });
    expect(report.unexplained).toEqual(differences);
    expect(report.markdown).toContain(`**${differences.length} differences**`);
    expect(report.markdown).toContain('**UNEXPLAINED**');
  });

  it('marks what an explanation matches, and keeps the rest unexplained', () => {
    const differences = diffRuns(engine, reference);
    const toParams: Explanation = {
      id: 'to-params',
      verdict: 'intended',
      reason: 'test',
      match: { header: 'To', reference: /^<[^>]*>;.*transport=/ },
    };
    const report = renderReport({ ...input, differences, explanations: [toParams] });
    expect(report.unexplained.some((d) => d.header === 'To')).toBe(false);
    expect(report.unexplained.length).toBeGreaterThan(0);
    expect(report.markdown).toContain('intended: [to-params](#to-params)');
    expect(report.markdown).toContain('### to-params');
  });

  it('explains every difference of the recorded fixtures with the committed explanations', () => {
    const differences = diffRuns(engine, reference);
    const report = renderReport({ ...input, differences, explanations: EXPLANATIONS });
    expect(report.unexplained).toEqual([]);
  });
});
