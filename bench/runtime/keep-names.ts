// What naming functions at run time costs: esbuild's `keepNames` (which tsx always sets, and our
// bundle sets so that logs keep class names) wraps every arrow or function expression that gets a
// name from its binding (`const f = () => ...`, `{ f: () => ... }`, an arrow class field) in a
// call that redefines its `name`. The same source is compiled with and without the option and each
// shape is created in a loop. Bounded: a fixed number of creations per sample.
// Usage: tsx bench/runtime/keep-names.ts
import { loadavg } from 'node:os';
import { transform } from 'esbuild';

const CREATIONS = 1_000_000;
const SAMPLES = 5;

const SOURCE = `
export function namedArrow(x) { const f = () => x; return f; }
export function anonymousArrow(x) { return [() => x]; }
export function arrowProperties(x) { return { a: () => x, b: () => x + 1, c: (y) => y + x }; }
export function methods(x) { return { a() { return x; }, b() { return x + 1; }, c(y) { return y + x; } }; }
export class WithArrowField { value = 1; read = () => this.value; }
export class WithMethod { value = 1; read() { return this.value; } }
`;

type Shapes = Record<
  'namedArrow' | 'anonymousArrow' | 'arrowProperties' | 'methods',
  (x: number) => unknown
> & {
  WithArrowField: new () => unknown;
  WithMethod: new () => unknown;
};

async function compiled(keepNames: boolean): Promise<Shapes> {
  const { code } = await transform(SOURCE, { loader: 'js', format: 'esm', keepNames });
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Shapes;
}

function nsPerCreation(create: (i: number) => unknown): number {
  const runs: number[] = [];
  let sink: unknown;
  for (let s = 0; s < SAMPLES; s++) {
    const before = process.cpuUsage();
    for (let i = 0; i < CREATIONS; i++) sink = create(i);
    const used = process.cpuUsage(before);
    runs.push(((used.user + used.system) * 1000) / CREATIONS);
  }
  if (sink === undefined) throw new Error('nothing was created');
  return runs.sort((a, b) => a - b)[Math.floor(SAMPLES / 2)] as number;
}

async function main(): Promise<void> {
  const plain = await compiled(false);
  const named = await compiled(true);
  console.log(
    `creations per sample ${CREATIONS}, median of ${SAMPLES}, CPU ns per creation; load ${loadavg()[0]?.toFixed(2)}`,
  );
  console.log('shape                               keepNames off   keepNames on');
  const rows: Array<[string, (m: Shapes) => (i: number) => unknown]> = [
    ['const f = () => x', (m) => m.namedArrow],
    ['anonymous arrow (an argument)', (m) => m.anonymousArrow],
    ['object with 3 arrow properties', (m) => m.arrowProperties],
    ['object with 3 methods', (m) => m.methods],
    ['instance with an arrow field', (m) => () => new m.WithArrowField()],
    ['instance with a method', (m) => () => new m.WithMethod()],
  ];
  for (const [label, pick] of rows) {
    const off = nsPerCreation(pick(plain));
    const on = nsPerCreation(pick(named));
    console.log(`${label.padEnd(36)}${off.toFixed(0).padStart(13)}${on.toFixed(0).padStart(15)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
