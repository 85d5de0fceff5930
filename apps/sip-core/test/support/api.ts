import { type ApiDeps, buildApp, ensureOperator } from '@switchboard/api';
import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import { expect } from 'vitest';

export type TestApi = Awaited<ReturnType<typeof buildApp>>;

/**
 * The API on the test's database with an operator signed in, for suites that provision through it and
 * watch sip-core pick the change up from the change feed.
 */
export async function operatorApi(
  prisma: PrismaClient,
  logger: Logger,
  operator: { email: string; password: string },
  /** More of the API's settings (where voicemail audio is kept, ...). */
  extra: Partial<ApiDeps> = {},
): Promise<{ api: TestApi; token: string }> {
  const api = await buildApp({
    prisma,
    logger,
    health: async () => ({ database: { status: 'up' } }),
    ...extra,
  });
  await ensureOperator(prisma, operator);
  const login = await api.inject({ method: 'POST', url: '/api/v1/auth/login', payload: operator });
  expect(login.statusCode, login.body).toBe(200);
  return { api, token: login.json<{ token: string }>().token };
}
