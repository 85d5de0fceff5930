import type { Difference } from './diff.ts';
import { type Explanation, explain } from './explain.ts';
import type { NormalisedScenario } from './normalise.ts';

export interface ReportInput {
  engine: NormalisedScenario[];
  reference: NormalisedScenario[];
  differences: Difference[];
  explanations: readonly Explanation[];
  /** e.g. `drachtio-server v0.9.4 (a0ce11f...)`. */
  referenceName: string;
  /** ISO date of the run. */
  date: string;
  /** The command that regenerates the report. */
  command: string;
  /** Which suites ran, one line each. */
  suites: string[];
}

export interface Report {
  markdown: string;
  unexplained: Difference[];
}

interface Group {
  difference: Difference;
  scenarios: Set<string>;
  count: number;
  explanation: Explanation | undefined;
}

const MAX_CELL = 240;

function cell(value: string | undefined): string {
  if (value === undefined) return '';
  const flat = value.replace(/\r?\n/g, '\\n').replace(/\|/g, '\\|');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL)}…` : flat;
}

function groupKey(d: Difference): string {
  return JSON.stringify([d.kind, d.message, d.header, d.engine, d.reference]);
}

/** Identical differences (same message, header and values) in several flows or scenarios become one row. */
export function groupDifferences(differences: Difference[], explanations: readonly Explanation[]): Group[] {
  const groups = new Map<string, Group>();
  for (const d of differences) {
    const key = groupKey(d);
    let group = groups.get(key);
    if (!group) {
      group = { difference: d, scenarios: new Set(), count: 0, explanation: explain(d, explanations) };
      groups.set(key, group);
    }
    group.scenarios.add(d.scenario);
    group.count++;
  }
  return [...groups.values()];
}

export function renderReport(input: ReportInput): Report {
  const groups = groupDifferences(input.differences, input.explanations);
  const unexplained = input.differences.filter((d) => !explain(d, input.explanations));
  const count = (runs: NormalisedScenario[]) => runs.reduce((n, s) => n + s.messages.length, 0);
  const lines: string[] = [
    '# The engine against drachtio-server, message by message',
    '',
    `Generated ${input.date} by \`${input.command}\` (docs/engine.md, "Differential check against drachtio-server").`,
    '',
    `Reference: **${input.referenceName}**. The same drachtio-srf apps and sipp scenarios ran once against the`,
    'engine and once against the reference; every SIP message each server sent and received was captured on',
    'the loopback interface, normalised (addresses and ports, tags, branches, Call-IDs, CSeq starting points,',
    'RSeq, Contact user parts, nonces, Content-Length, Server/User-Agent/Date, SDP session ids and media ports,',
    'header order across names, name-addr spelling) and compared leg by leg. Exact repeats (retransmissions)',
    'are counted apart: their number depends on timing.',
    '',
    ...input.suites.map((s) => `- ${s}`),
    '',
    '| | engine | reference |',
    '|---|---|---|',
    `| scenarios | ${input.engine.length} | ${input.reference.length} |`,
    `| messages compared | ${count(input.engine)} | ${count(input.reference)} |`,
    `| retransmissions (not compared) | ${sum(input.engine, 'retransmissions')} | ${sum(input.reference, 'retransmissions')} |`,
    `| captured but not parsable (listed at the end) | ${unparsable(input.engine).length} | ${unparsable(input.reference).length} |`,
    '',
    `**${input.differences.length} differences** in ${groups.length} kinds; **${unexplained.length} unexplained**.`,
    '',
    '## Differences',
    '',
    'Each row: one difference, the scenarios where it occurs, and why it is there (the explanations live in',
    "`apps/engine/tools/sip-diff/explanations.ts`; docs/engine.md's compatibility table summarises them).",
    '',
    '| # | kind | message | header | engine | reference | occurrences | verdict |',
    '|---|---|---|---|---|---|---|---|',
  ];
  groups.forEach((g, i) => {
    const d = g.difference;
    const verdict = g.explanation
      ? `${g.explanation.verdict}: [${g.explanation.id}](#${g.explanation.id})`
      : '**UNEXPLAINED**';
    lines.push(
      `| ${i + 1} | ${d.kind} | ${cell(d.message)} | ${cell(d.header)} | ${cell(d.engine)} | ${cell(d.reference)} | ${occurrences(g)} | ${verdict} |`,
    );
  });
  lines.push('', '## Explanations', '');
  const used = new Set(groups.map((g) => g.explanation).filter((e): e is Explanation => e !== undefined));
  for (const e of input.explanations.filter((x) => used.has(x))) {
    lines.push(`### ${e.id}`, '', `*${e.verdict}*: ${e.reason}`, '');
  }
  lines.push(
    '## Scenarios',
    '',
    '| scenario | messages (engine / reference) | differences |',
    '|---|---|---|',
  );
  const refByName = new Map(input.reference.map((s) => [s.scenario, s]));
  const names = [
    ...new Set([...input.engine.map((s) => s.scenario), ...input.reference.map((s) => s.scenario)]),
  ];
  for (const name of names) {
    const e = input.engine.find((s) => s.scenario === name);
    const r = refByName.get(name);
    const n = input.differences.filter((d) => d.scenario === name).length;
    lines.push(`| ${cell(name)} | ${e?.messages.length ?? '-'} / ${r?.messages.length ?? '-'} | ${n} |`);
  }
  lines.push('', '## Messages the parser refused', '');
  lines.push('Not compared; a server that sent one would be listed here as the sender.', '');
  for (const [name, runs] of [
    ['engine', input.engine],
    ['reference', input.reference],
  ] as const) {
    const rows = unparsable(runs);
    lines.push(`${name} run${rows.length === 0 ? ': none' : ':'}`, '');
    if (rows.length > 0)
      lines.push('| scenario | sender | first line | parser |', '|---|---|---|---|', ...rows, '');
  }
  return { markdown: lines.join('\n'), unexplained };
}

/** How often, and where: the first two scenarios by name, then how many more. */
function occurrences(group: Group): string {
  const names = [...group.scenarios];
  const shown = names
    .slice(0, 2)
    .map((n) => cell(n))
    .join('; ');
  const more = names.length > 2 ? ` and ${names.length - 2} more` : '';
  return `${group.count}× in ${shown}${more}`;
}

function sum(runs: NormalisedScenario[], field: 'retransmissions'): number {
  return runs.reduce((n, s) => n + s[field], 0);
}

function unparsable(runs: NormalisedScenario[]): string[] {
  return runs.flatMap((s) =>
    s.unparsable.map(
      (u) => `| ${cell(s.scenario)} | ${cell(u.direction)} | ${cell(u.startLine)} | ${cell(u.error)} |`,
    ),
  );
}
