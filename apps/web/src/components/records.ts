import { type ApiClient, ApiProblem, type Problem } from '../api/client.ts';

/** A refused delete's problem: the records that still depend on the one to delete, by resource. */
export interface DependantsProblem extends Problem {
  dependants?: Record<string, number>;
}

export type DeleteOutcome = { ok: true } | { ok: false; dependants: Record<string, number> };

/**
 * The record actions every admin list shares (delete, enable/disable), on a record named by its API path.
 * The path is built from a resource and an id at run time, so it goes past the generated per-path types.
 */
interface LooseClient {
  DELETE(
    url: string,
    init: { params: { query?: { force?: boolean } } },
  ): Promise<{ error?: unknown; response: Response }>;
  PATCH(url: string, init: { body: unknown }): Promise<{ error?: unknown; response: Response }>;
}

const loose = (api: ApiClient) => api as unknown as LooseClient;

/**
 * Deletes the record at `path` (`/api/v1/customers/<id>`). Without `force`, a record others depend on is
 * not deleted: the outcome lists them (the API's 409) so the user can confirm deleting them too.
 */
export async function deleteRecord(api: ApiClient, path: string, force = false): Promise<DeleteOutcome> {
  const result = await loose(api).DELETE(path, { params: force ? { query: { force: true } } : {} });
  if (result.response.ok) return { ok: true };
  const problem = (result.error ?? {}) as DependantsProblem;
  if (result.response.status === 409 && problem.dependants && !force) {
    return { ok: false, dependants: problem.dependants };
  }
  throw new ApiProblem(result.response.status, problem);
}

export async function patchRecord(api: ApiClient, path: string, body: unknown): Promise<void> {
  const result = await loose(api).PATCH(path, { body });
  if (!result.response.ok) throw new ApiProblem(result.response.status, (result.error ?? {}) as Problem);
}

/** `3 subscribers, 1 numbers` → readable counts of dependants, largest first. */
export function describeDependants(counts: Record<string, number>): string[] {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([entity, n]) => `${n} ${entity.replace(/-/g, ' ')}`);
}

/** Adds up the dependants of several records. */
export function sumDependants(all: Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const counts of all) for (const [k, n] of Object.entries(counts)) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}
