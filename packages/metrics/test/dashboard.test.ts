import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, METRIC_NAMES } from '../src/index.ts';

/** infra/grafana/switchboard.json must only query metrics that exist, under the names the code exports. */
const dashboard = JSON.parse(
  readFileSync(new URL('../../../infra/grafana/switchboard.json', import.meta.url), 'utf8'),
) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };

const expressions = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe('Grafana dashboard', () => {
  it('queries Switchboard metrics by their exported names only', () => {
    const known = new Set<string>(Object.values(METRIC_NAMES));
    const used = new Set(expressions.flatMap((e) => e.match(/switchboard_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) {
      expect(known.has(name) || known.has(name.replace(/_(bucket|count|sum)$/, '')), name).toBe(true);
    }
  });

  it('queries process metrics the registry really has', async () => {
    const exported = await createMetricsRegistry().getMetricsAsJSON();
    const names = new Set(exported.map((m) => m.name));
    const used = new Set(expressions.flatMap((e) => e.match(/\b(nodejs|process)_[a-z0-9_]+/g) ?? []));
    for (const name of used) expect(names.has(name), name).toBe(true);
  });
});
