import type { ApiCreateLimits } from '@switchboard/config';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { tooManyRequests } from './errors.ts';
import { WindowLimiter } from './limiter.ts';
import type { ApiLimits } from './types.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route creates a record: it counts against the create limits. */
    creates?: boolean;
  }
}

export interface CreateLimitOptions {
  limits: ApiLimits;
  now: () => number;
}

/**
 * Create requests (409 "already exists" vs 201) tell whether a username, e-mail, domain or number is taken,
 * in any tenant. Counting every create per principal and per client address bounds how fast anyone can test
 * names that way: past the budget, 429 with Retry-After until the window ends. Operators see every tenant
 * anyway and are not counted, so bulk provisioning by the operator is never slowed.
 */
async function createLimits(app: FastifyInstance, { limits, now }: CreateLimitOptions): Promise<void> {
  const perPrincipal = new WindowLimiter(
    { max: limits.createsPerPrincipal, windowMs: limits.createWindowMs },
    now,
  );
  const perAddress = new WindowLimiter(
    { max: limits.createsPerAddress, windowMs: limits.createWindowMs },
    now,
  );
  // After validation: a malformed request tests nothing and is not counted.
  app.addHook('preHandler', async (request) => {
    const principal = request.principal;
    if (request.routeOptions.config.creates !== true || principal === null || principal.role === 'operator') {
      return;
    }
    const checks: [WindowLimiter, string, number][] = [
      [perPrincipal, principal.userId, limits.createsPerPrincipal],
      [perAddress, request.ip, limits.createsPerAddress],
    ];
    const active = checks.filter(([, , max]) => max > 0);
    const wait = Math.max(0, ...active.map(([limiter, key]) => limiter.retryAfter(key)));
    if (wait > 0) {
      request.log.warn(
        { userId: principal.userId, ip: request.ip, url: request.url },
        'create rate limit reached',
      );
      throw tooManyRequests(wait, 'Too many create requests, try again later');
    }
    for (const [limiter, key] of active) limiter.hit(key);
  });
}

/** The API's create limits from the configuration (API_CREATE_LIMIT, ...). */
export function createLimitsOf(config: ApiCreateLimits): Partial<ApiLimits> {
  return {
    createsPerPrincipal: config.perPrincipal,
    createsPerAddress: config.perAddress,
    createWindowMs: config.windowMs,
  };
}

export const createLimitPlugin = fp(createLimits, { name: 'switchboard-create-limits' });
