// @vitest-environment node
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderApiSchema, renderRequestBodies } from '../scripts/openapi.ts';

describe('generated API modules', () => {
  it.each([
    ['schema.d.ts', renderApiSchema],
    ['request-bodies.ts', renderRequestBodies],
  ])(
    '%s matches the OpenAPI document the API builds now (run `pnpm --filter @switchboard/web generate:api` if not)',
    async (file, render) => {
      const committed = await readFile(new URL(`../src/api/generated/${file}`, import.meta.url), 'utf8');
      expect(committed === (await render()), `src/api/generated/${file} is stale`).toBe(true);
    },
    60_000,
  );
});
