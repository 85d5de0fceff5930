import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';

/**
 * Errors are RFC 9457 problem details (`application/problem+json`). One `ApiError` class carries every error a
 * handler raises on purpose; the error handler below also translates Fastify's validation errors and the
 * database's constraint errors so that a client always sees the same shape.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://switchboard.dev/problems/';

export const FieldError = Type.Object({
  field: Type.String({ description: 'JSON pointer to the bad field, e.g. /body/email or /query/page' }),
  message: Type.String(),
});

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URI identifying the problem type' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldError)),
  },
  { description: 'RFC 9457 problem details' },
);

/** The 409 of a delete refused because other records depend on the one to delete. */
export const DependantsProblem = Type.Object(
  {
    ...Problem.properties,
    dependants: Type.Record(Type.String(), Type.Integer(), {
      description: 'How many records of each resource depend on this one, e.g. {"subscribers": 3}',
    }),
  },
  { description: 'RFC 9457 problem details with the dependants that block the delete' },
);

export type FieldErrorShape = Static<typeof FieldError>;
export type ProblemBody = Static<typeof Problem>;
/** Members a problem carries beyond the standard ones. */
export interface ProblemExtensions {
  dependants?: Record<string, number>;
}

const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['validation', 'Request validation failed'],
  401: ['unauthorized', 'Authentication required'],
  403: ['forbidden', 'Not allowed'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  409: ['conflict', 'Conflict'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['unprocessable', 'Unprocessable request'],
  429: ['rate-limited', 'Too many requests'],
  500: ['internal', 'Internal server error'],
  503: ['unavailable', 'Service unavailable'],
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    detail?: string,
    readonly errors?: FieldErrorShape[],
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers: Record<string, string> = {},
    /** RFC 9457 extension members added to the body, e.g. `dependants` on a refused delete. */
    readonly extensions: ProblemExtensions = {},
  ) {
    super(detail ?? TITLES[status]?.[1] ?? 'Error');
    this.name = 'ApiError';
  }
}

export const badRequest = (detail: string, errors?: FieldErrorShape[]) => new ApiError(400, detail, errors);
export const unauthorized = (detail = 'A valid bearer token or API key is required') =>
  new ApiError(401, detail, undefined, { 'www-authenticate': 'Bearer' });
export const forbidden = (detail = 'Your role may not do this', errors?: FieldErrorShape[]) =>
  new ApiError(403, detail, errors);
/** Also used for records of another tenant: existence must not leak across tenants. */
export const notFound = (what = 'Resource') => new ApiError(404, `${what} not found`);
/** A reference in the request body to a record the caller cannot see (or that does not exist). */
export const notFoundField = (what: string, field: string) =>
  new ApiError(404, `${what} not found`, [{ field, message: 'not found' }]);
export const conflict = (detail: string, errors?: FieldErrorShape[], extensions?: ProblemExtensions) =>
  new ApiError(409, detail, errors, {}, extensions);
export const unprocessable = (detail: string, errors?: FieldErrorShape[]) =>
  new ApiError(422, detail, errors);
export const tooManyRequests = (retryAfterSeconds: number, detail = 'Too many attempts, try again later') =>
  new ApiError(429, detail, undefined, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });

export function problem(status: number, detail?: string, errors?: FieldErrorShape[]): ProblemBody {
  const [slug, title] = TITLES[status] ?? ['error', 'Error'];
  const body: ProblemBody = { type: `${PROBLEM_BASE}${slug}`, title, status };
  if (detail !== undefined) body.detail = detail;
  if (errors !== undefined && errors.length > 0) body.errors = errors;
  return body;
}

export function sendProblem(
  reply: FastifyReply,
  status: number,
  detail?: string,
  errors?: FieldErrorShape[],
): FastifyReply {
  return reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem(status, detail, errors));
}

interface AjvLikeError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Turns Ajv errors into `{field, message}` where field is a JSON pointer rooted at the request part. */
export function fieldErrors(context: string, errors: readonly AjvLikeError[]): FieldErrorShape[] {
  const seen = new Set<string>();
  const out: FieldErrorShape[] = [];
  for (const e of errors) {
    let path = e.instancePath;
    // A missing or unknown property is reported on its parent object; name the property itself.
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      path += `/${e.params.missingProperty}`;
    } else if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path += `/${e.params.additionalProperty}`;
    }
    const field = `/${context}${path}`;
    const message =
      e.keyword === 'additionalProperties' ? 'unknown property' : (e.message ?? 'invalid value');
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field, message });
  }
  return out;
}

/** Prisma's known request errors, identified by code without importing the generated client. */
export interface PrismaKnownError {
  code: string;
  meta?: { target?: unknown; modelName?: string; field_name?: unknown; driverAdapterError?: unknown };
}
function isPrismaKnownError(err: unknown): err is PrismaKnownError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    /^P\d{4}$/.test((err as { code: string }).code)
  );
}

const camel = (column: string) => column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Best effort: the request fields behind a violated unique constraint. Prisma reports the columns directly
 * for some drivers; through the pg adapter only the index name (`<table>_<col>_<col>_key`) is known, so the
 * request body's own fields are matched against it.
 */
export function uniqueFields(err: PrismaKnownError, body: unknown): string[] {
  const target = err.meta?.target;
  if (Array.isArray(target)) return target.map((t) => camel(String(t)));
  if (typeof target === 'string') return [camel(target)];
  const cause = (
    err.meta?.driverAdapterError as { cause?: { constraint?: { fields?: unknown; index?: unknown } } }
  )?.cause;
  const fields = cause?.constraint?.fields;
  if (Array.isArray(fields)) return fields.map((f) => camel(String(f).replace(/"/g, '')));
  const index = cause?.constraint?.index;
  if (typeof index !== 'string' || typeof body !== 'object' || body === null) return [];
  const tokens = `_${index}_`;
  return Object.keys(body).filter((key) => tokens.includes(`_${snake(key)}_`));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(
    (err: FastifyError | ApiError | Error, request: FastifyRequest, reply: FastifyReply) => {
      if (err instanceof ApiError) {
        for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
        return reply
          .code(err.status)
          .type(PROBLEM_CONTENT_TYPE)
          .send({ ...err.extensions, ...problem(err.status, err.message, err.errors) });
      }
      const fe = err as FastifyError;
      if (fe.validation) {
        // Fastify names the query string `querystring`; clients know it as the query.
        const context = fe.validationContext === 'querystring' ? 'query' : (fe.validationContext ?? 'body');
        const errors = fieldErrors(context, fe.validation as AjvLikeError[]);
        return sendProblem(reply, 400, 'The request has invalid fields', errors);
      }
      if (isPrismaKnownError(err)) {
        if (err.code === 'P2002') {
          const fields = uniqueFields(err, request.body);
          return sendProblem(
            reply,
            409,
            fields.length > 0 ? `Already exists: ${fields.join(', ')} must be unique` : 'Already exists',
            fields.map((f) => ({ field: `/body/${f}`, message: 'already in use' })),
          );
        }
        if (err.code === 'P2025') return sendProblem(reply, 404, 'Resource not found');
        if (err.code === 'P2003' || err.code === 'P2014') {
          return sendProblem(
            reply,
            409,
            'The change conflicts with related records (still referenced or missing)',
          );
        }
      }
      const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 ? fe.statusCode : 500;
      if (status >= 500) {
        request.log.error({ err }, 'request failed');
        return sendProblem(reply, status, 'The server could not complete the request');
      }
      return sendProblem(reply, status, fe.message);
    },
  );
}
