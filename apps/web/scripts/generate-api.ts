import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderApiSchema } from './openapi.ts';

/** Regenerates src/api/generated/schema.d.ts from the API's OpenAPI document. */
const target = fileURLToPath(new URL('../src/api/generated/schema.d.ts', import.meta.url));
await writeFile(target, await renderApiSchema());
console.log(`wrote ${target}`);
