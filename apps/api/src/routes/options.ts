import type { PrismaClient } from '@switchboard/db';
import type { CookieSecurity } from '../auth/cookies.ts';
import type { TwoFactor } from '../auth/two-factor.ts';
import type { ActiveCall, ApiLimits } from '../types.ts';

/** What every resource plugin receives when it is registered under /api/v1. */
export interface RouteOptions {
  prisma: PrismaClient;
  now: () => number;
  limits: ApiLimits;
  sessionTtlMs: number;
  activeCalls: () => Promise<ActiveCall[]>;
  /** Whether the web app's session cookies are marked Secure. */
  cookieSecure: CookieSecurity;
  /** The second factor of web logins and the policy requiring it. */
  twoFactor: TwoFactor;
}
