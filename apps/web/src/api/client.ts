import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './generated/schema.d.ts';

export type { paths } from './generated/schema.d.ts';

/** The JSON body an operation answers with on 200 or 201. */
export type ResponseOf<P extends keyof paths, M extends 'get' | 'post' | 'patch'> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: { content: { 'application/json': infer B } } }
    ? B
    : R extends { 201: { content: { 'application/json': infer B } } }
      ? B
      : never
  : never;

/** One row of a list operation. */
export type ItemOf<P extends keyof paths> = ResponseOf<P, 'get'> extends { items: (infer I)[] } ? I : never;

/** An RFC 9457 problem the API answered with. */
export interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: { field: string; message: string }[];
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    const fields = problem.errors?.map((e) => `${e.field.replace(/^\/body\//, '')}: ${e.message}`).join('; ');
    super(
      fields
        ? `${problem.title ?? 'Request failed'} (${fields})`
        : (problem.detail ?? problem.title ?? `HTTP ${status}`),
    );
  }
}

/** The readable cookie the API sets at login; its value goes back in a header on every change. */
export const CSRF_COOKIE = 'sb_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The CSRF token of the signed-in session, read from its cookie (undefined when signed out). */
export function csrfToken(cookies = globalThis.document?.cookie ?? ''): string | undefined {
  for (const part of cookies.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * PUTs an audio file as the raw request body (a greeting upload: the API takes `audio/wav` or `audio/mpeg`,
 * which the typed client does not send), with the session cookie and the CSRF token as the client does.
 */
export async function putAudio(path: string, file: File): Promise<void> {
  const token = csrfToken();
  const response = await fetch(path, {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { 'content-type': file.type || 'audio/wav', ...(token ? { [CSRF_HEADER]: token } : {}) },
    body: file,
  });
  if (!response.ok) throw new ApiProblem(response.status, await response.json().catch(() => ({})));
}

/**
 * The session is an HttpOnly cookie the browser sends by itself (scripts here never see the login token);
 * a state-changing request also carries the CSRF token, which proves it comes from this app.
 */
const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method === 'GET' || request.method === 'HEAD') return request;
    const token = csrfToken();
    if (token) request.headers.set(CSRF_HEADER, token);
    return request;
  },
};

export function createApiClient(
  baseUrl = globalThis.location?.origin ?? 'http://localhost',
  fetchImpl?: typeof fetch,
) {
  const client = createClient<paths>({
    baseUrl,
    credentials: 'same-origin',
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  client.use(csrf);
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Unwraps an openapi-fetch result: the data, or an ApiProblem carrying the API's problem details. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw new ApiProblem(result.response.status, (result.error ?? {}) as Problem);
  }
  return result.data;
}

/** Operations that can also answer CSV (CDRs) type their body as JSON-or-string; requested as JSON it is JSON. */
export function asJson<T>(data: T): Exclude<T, string> {
  if (typeof data === 'string') throw new Error('expected a JSON body, got text');
  return data as Exclude<T, string>;
}
