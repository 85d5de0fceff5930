import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Prisma, type PrismaClient } from '@switchboard/db';
import { METRIC_NAMES, type MetricsRegistry } from '@switchboard/metrics';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { visibleCalls } from '../live/visible-calls.ts';
import { Nullable, Timestamp } from '../schemas.ts';
import { scopes, within } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * `GET /dashboard`: the figures of the admin's first page, each one aggregate query over the principal's
 * tenant (never rows fetched and counted in the browser).
 */

const HOUR_MS = 3_600_000;

const Hour = Type.Object({
  hour: Timestamp,
  calls: Type.Integer(),
  answered: Type.Integer(),
});

const DashboardStats = Type.Object({
  devices: Type.Integer({
    description: 'Registered devices: distinct AOR + instance (+sip.instance, else the contact)',
  }),
  bindings: Type.Integer({ description: 'Live bindings (a device may hold several, e.g. per flow)' }),
  registeredSubscribers: Type.Integer({ description: 'Subscribers with at least one live binding' }),
  activeCalls: Type.Integer(),
  callsLast24h: Type.Integer(),
  answeredLast24h: Type.Integer(),
  callsPerHour: Type.Array(Hour, {
    description: 'The last 24 hours, oldest first; the last is the current hour',
  }),
  webLoginFailuresLast24h: Type.Integer({ description: 'Failed web and API logins the principal may see' }),
  sipAuthFailures: Nullable(
    Type.Integer({
      description:
        'SIP digest authentications refused since this process started (operator only; null when the SIP ' +
        'side runs in another process: read its /metrics)',
    }),
  ),
});

/** The tenant condition of `registrations r JOIN subscribers s LEFT JOIN customers c` (see tenancy.ts). */
function subscriberScopeSql(p: Principal): Prisma.Sql {
  if (p.role === 'operator') return Prisma.sql`TRUE`;
  if (p.role === 'reseller') return Prisma.sql`c.reseller_id = ${p.resellerId}::uuid`;
  return Prisma.sql`s.customer_id = ${p.customerId}::uuid`;
}

/** The tenant condition of `cdrs` (both ends' customers, as `scopes.cdr`). */
function cdrScopeSql(p: Principal): Prisma.Sql {
  if (p.role === 'operator') return Prisma.sql`TRUE`;
  if (p.role === 'reseller') {
    const theirs = Prisma.sql`(SELECT id FROM customers WHERE reseller_id = ${p.resellerId}::uuid)`;
    return Prisma.sql`(caller_customer_id IN ${theirs} OR callee_customer_id IN ${theirs})`;
  }
  return Prisma.sql`(caller_customer_id = ${p.customerId}::uuid OR callee_customer_id = ${p.customerId}::uuid)`;
}

async function registrationCounts(prisma: PrismaClient, p: Principal, at: Date) {
  const [row] = await prisma.$queryRaw<{ bindings: number; devices: number; subscribers: number }[]>`
    SELECT count(*)::int AS bindings,
           count(DISTINCT (r.aor, coalesce(r.instance_id, r.contact_uri)))::int AS devices,
           count(DISTINCT r.subscriber_id)::int AS subscribers
      FROM registrations r
      JOIN subscribers s ON s.id = r.subscriber_id
      LEFT JOIN customers c ON c.id = s.customer_id
     WHERE r.expires_at > ${at} AND ${subscriberScopeSql(p)}`;
  return row ?? { bindings: 0, devices: 0, subscribers: 0 };
}

async function callsPerHour(prisma: PrismaClient, p: Principal, at: Date) {
  const end = Math.floor(at.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  const since = new Date(end - 24 * HOUR_MS);
  const rows = await prisma.$queryRaw<{ hour: Date; calls: number; answered: number }[]>`
    SELECT date_trunc('hour', started_at) AS hour, count(*)::int AS calls,
           count(*) FILTER (WHERE disposition = 'answered')::int AS answered
      FROM cdrs
     WHERE started_at >= ${since} AND ${cdrScopeSql(p)}
     GROUP BY 1`;
  const byHour = new Map(rows.map((r) => [new Date(r.hour).getTime(), r]));
  return Array.from({ length: 24 }, (_, i) => {
    const hour = since.getTime() + i * HOUR_MS;
    const row = byHour.get(hour);
    return { hour: new Date(hour).toISOString(), calls: row?.calls ?? 0, answered: row?.answered ?? 0 };
  });
}

/** The process-wide counter of refused SIP digests, when sip-core counts into this process's registry. */
async function sipAuthFailures(metrics: MetricsRegistry | undefined): Promise<number | null> {
  const metric = metrics?.getSingleMetric(METRIC_NAMES.authFailures);
  if (metric === undefined) return null;
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

export async function dashboardRoutes(
  fastify: FastifyInstance,
  { prisma, now, activeCalls, metrics }: RouteOptions & { metrics?: MetricsRegistry },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/dashboard',
    {
      config: { roles: ['operator', 'reseller', 'customer'] },
      schema: {
        tags: ['live'],
        operationId: 'dashboardStats',
        summary: 'Counts for the dashboard: devices, calls, calls per hour, login and SIP auth failures',
        response: { 200: DashboardStats },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const at = new Date(now());
      const [registrations, hours, live, loginFailures, sipFailures] = await Promise.all([
        registrationCounts(prisma, principal, at),
        callsPerHour(prisma, principal, at),
        visibleCalls(prisma, principal, activeCalls),
        prisma.auditEntry.count({
          where: within(scopes.auditEntry(principal), {
            action: 'login-failed',
            at: { gte: new Date(at.getTime() - 24 * HOUR_MS) },
          }),
        }),
        principal.role === 'operator' ? sipAuthFailures(metrics) : Promise.resolve(null),
      ]);
      // The chart's window starts at the top of the hour 23 hours ago; the 24-hour figures are exact.
      const [last24h] = await prisma.$queryRaw<{ calls: number; answered: number }[]>`
        SELECT count(*)::int AS calls, count(*) FILTER (WHERE disposition = 'answered')::int AS answered
          FROM cdrs WHERE started_at >= ${new Date(at.getTime() - 24 * HOUR_MS)} AND ${cdrScopeSql(principal)}`;
      return {
        devices: registrations.devices,
        bindings: registrations.bindings,
        registeredSubscribers: registrations.subscribers,
        activeCalls: live.calls.length,
        callsLast24h: last24h?.calls ?? 0,
        answeredLast24h: last24h?.answered ?? 0,
        callsPerHour: hours,
        webLoginFailuresLast24h: loginFailures,
        sipAuthFailures: sipFailures,
      };
    },
  );
}
