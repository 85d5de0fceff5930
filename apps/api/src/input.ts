import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, type FieldErrorShape } from './errors.ts';

/**
 * Checks every request's decoded input once, before any route's schema or handler sees it. PostgreSQL text
 * cannot hold U+0000 (the driver fails the whole query), so a NUL anywhere in a JSON body string, a query
 * parameter or a path parameter is a client error naming the field, for every route alike.
 */

const MAX_DEPTH = 32;

/** JSON pointers (RFC 6901) of every string below `value` that contains U+0000. */
export function nulFields(
  value: unknown,
  pointer: string,
  out: FieldErrorShape[] = [],
  depth = 0,
): FieldErrorShape[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ field: pointer, message: 'must not contain NUL (\\u0000)' });
    return out;
  }
  // Deeper than any schema of this API: the schema will reject it, nothing here to store.
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) return out;
  for (const [key, child] of Object.entries(value)) {
    const token = key.replace(/~/g, '~0').replace(/\//g, '~1');
    if (token.includes('\u0000')) {
      out.push({ field: pointer, message: 'property names must not contain NUL (\\u0000)' });
      continue;
    }
    nulFields(child, `${pointer}/${token}`, out, depth + 1);
  }
  return out;
}

function checkRequest(request: FastifyRequest): void {
  const errors = [
    ...nulFields(request.params, '/params'),
    ...nulFields(request.query, '/query'),
    ...nulFields(request.body, '/body'),
  ];
  if (errors.length > 0) throw badRequest('The request has invalid fields', errors);
}

/** Registers the check for every route of `app` (call it on the root instance). */
export function registerInputChecks(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => checkRequest(request));
}
