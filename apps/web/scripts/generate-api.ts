import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderApiSchema, renderRequestBodies } from './openapi.ts';

/** Regenerates src/api/generated/ from the API's OpenAPI document: the types and the request-body schemas. */
const generated = (file: string) => fileURLToPath(new URL(`../src/api/generated/${file}`, import.meta.url));
for (const [file, render] of [
  ['schema.d.ts', renderApiSchema],
  ['request-bodies.ts', renderRequestBodies],
] as const) {
  await writeFile(generated(file), await render());
  console.log(`wrote ${generated(file)}`);
}
