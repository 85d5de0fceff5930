// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rewrite rules write variables as ${name} in plain strings
/**
 * Numbering lookup benchmark: 100,000 numbers and 500,000 peering rules in the in-memory index, then
 * number -> URI, URI -> caller presentation, least-cost routing, normalisation and rewriting, each timed
 * over a bounded number of iterations. Run: `pnpm --filter @switchboard/numbering bench`.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseE164 } from '../src/normalise.ts';
import { NumberingIndex } from '../src/numbering-index.ts';
import type { NumberingData } from '../src/types.ts';

const NUMBERS = 100_000;
const PEERING_RULES = 500_000;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);

function buildData(): NumberingData {
  const data: NumberingData = {
    domains: [
      {
        id: 'd',
        name: 'example.com',
        countryCode: '43',
        nationalPrefix: '0',
        internationalPrefix: '00',
        areaCode: '1',
        rewriteRuleSetId: 'rs',
      },
    ],
    subscribers: [],
    numbers: [],
    rewriteRuleSets: [
      {
        id: 'rs',
        name: 'Austria',
        rules: [
          rule('r1', '^00([1-9][0-9]+)$', '$1', 1),
          rule('r2', '^0([1-9][0-9]+)$', '${cc}$1', 2),
          rule('r3', '^([1-9][0-9]{2,7})$', '${cc}${ac}$1', 3),
        ],
      },
    ],
    peeringGroups: [],
    gateways: [],
    peeringRules: [],
  };
  for (let i = 0; i < NUMBERS; i++) {
    data.subscribers.push({
      id: `s${i}`,
      domainId: 'd',
      username: `user${i}`,
      clir: i % 10 === 0,
      areaCode: null,
      rewriteRuleSetId: null,
      allowedCalleePrefixes: [],
      blockedCalleePrefixes: ['43900'],
    });
    data.numbers.push({ id: `n${i}`, e164: `+431${1_000_000 + i}`, subscriberId: `s${i}`, isPrimary: true });
  }
  for (let g = 0; g < 50; g++) {
    data.peeringGroups.push({
      id: `g${g}`,
      name: `carrier${g}`,
      priority: g % 5,
      enabled: true,
      rewriteRuleSetId: null,
    });
    for (let k = 0; k < 4; k++) {
      data.gateways.push({
        id: `gw${g}-${k}`,
        groupId: `g${g}`,
        name: `gw${g}-${k}`,
        host: `198.51.100.${g}`,
        port: 5060 + k,
        transport: 'udp',
        priority: 1,
        weight: 1 + k,
        enabled: k !== 3,
      });
    }
  }
  // Deterministic spread of prefixes of 2 to 9 digits, the shape of a carrier rate deck.
  const next = mulberry32(12345);
  for (let i = 0; i < PEERING_RULES; i++) {
    const length = 2 + (next() % 8);
    let prefix = String(1 + (next() % 9));
    while (prefix.length < length) prefix += String(next() % 10);
    data.peeringRules.push({
      id: `pr${i}`,
      groupId: `g${next() % 50}`,
      calleePrefix: prefix,
      callerPattern: i % 1000 === 0 ? '^43' : null,
      priority: 100,
      enabled: true,
    });
  }
  data.peeringRules.push({
    id: 'default',
    groupId: 'g0',
    calleePrefix: '',
    callerPattern: null,
    priority: 100,
    enabled: true,
  });
  return data;
}

/** Small deterministic 32-bit PRNG (mulberry32): returns unsigned 32-bit integers. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function rule(id: string, matchPattern: string, replacement: string, priority: number) {
  return {
    id,
    direction: 'from_subscriber' as const,
    field: 'callee' as const,
    matchPattern,
    replacement,
    priority,
    enabled: true,
  };
}

function measure(
  name: string,
  iterations: number,
  body: (i: number) => unknown,
): { name: string; usPerOp: number } {
  for (let i = 0; i < Math.min(10_000, iterations); i++) body(i); // warm up the JIT
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < iterations; i++) if (body(i)) sink++;
  const elapsed = Number(process.hrtime.bigint() - start) / 1000;
  if (sink < 0) console.log(sink);
  return { name, usPerOp: elapsed / iterations };
}

const data = buildData();
const buildStart = process.hrtime.bigint();
const index = new NumberingIndex(data);
const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;
const memoryMb = process.memoryUsage().heapUsed / 2 ** 20;

const rand = mulberry32(99);
const countries = ['43', '49', '44', '33', '39', '1212', '1415', '41', '31', '46'];
const callees: string[] = [];
for (let tries = 0; callees.length < 1024 && tries < 100_000; tries++) {
  const candidate = `+${countries[rand() % countries.length]}${String(rand()).padStart(10, '0').slice(0, 8)}`;
  if (isPossible(candidate)) callees.push(candidate);
}

function isPossible(number: string): boolean {
  try {
    parseE164(number);
    return true;
  } catch {
    return false;
  }
}

// Calibration: one plain Map read with a freshly built string key, the floor of any lookup here. On a
// loaded machine everything slows down alike; compare the rows with this one.
const plain = new Map(data.numbers.map((number) => [number.e164.slice(1), number]));
const results = [
  measure('baseline: Map.get with a built key', ITERATIONS, (i) =>
    plain.get(`431${1_000_000 + (i % NUMBERS)}`),
  ),
  measure('number -> URI (hit)', ITERATIONS, (i) => index.lookupNumber(`+431${1_000_000 + (i % NUMBERS)}`)),
  measure('number -> URI (miss)', ITERATIONS, (i) => index.lookupNumber(`+432${1_000_000 + (i % NUMBERS)}`)),
  measure('URI -> caller presentation', ITERATIONS, (i) =>
    index.presentCaller(`sip:user${i % NUMBERS}@example.com`),
  ),
  measure('LCR, 500k rules (callee only)', ITERATIONS, (i) =>
    index.routeCall({ callee: callees[i % callees.length]! }),
  ),
  measure('LCR with caller and barring', ITERATIONS, (i) =>
    index.routeCall({ callee: callees[i % callees.length]!, caller: '+4311000001', subscriberId: 's1' }),
  ),
  measure('normalise (national)', ITERATIONS, () => index.normalise('example.com', '0660 1234567')),
  measure('rewrite (3 rules, last matches)', ITERATIONS, () =>
    index.rewriteForSubscriber('s1', 'from_subscriber', 'callee', '1001'),
  ),
];

console.log(
  `index: ${index.size.numbers} numbers, ${PEERING_RULES} peering rules (${index.size.peeringRules} kept, the rest ` +
    `redundant); snapshot built in ${buildMs.toFixed(0)} ms; heap ${memoryMb.toFixed(0)} MB; ` +
    `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
);
console.log('| lookup | µs per lookup |');
console.log('|---|---|');
for (const { name, usPerOp } of results) console.log(`| ${name} | ${usPerOp.toFixed(2)} |`);
