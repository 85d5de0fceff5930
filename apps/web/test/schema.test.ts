// @vitest-environment node
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderApiSchema } from '../scripts/openapi.ts';

describe('generated API types', () => {
  it('match the OpenAPI document the API builds now (run `pnpm --filter @switchboard/web generate:api` if not)', async () => {
    const committed = await readFile(new URL('../src/api/generated/schema.d.ts', import.meta.url), 'utf8');
    expect(committed === (await renderApiSchema()), 'src/api/generated/schema.d.ts is stale').toBe(true);
  }, 60_000);
});
