import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { createMetricsRegistry } from '@switchboard/metrics';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { Type } from 'typebox';
import { authenticatePlugin } from './auth/authenticate.ts';
import { TwoFactor } from './auth/two-factor.ts';
import { createLimitPlugin } from './create-limits.ts';
import { PROBLEM_CONTENT_TYPE, Problem, registerErrorHandling, sendProblem } from './errors.ts';
import { securityHeaders } from './headers.ts';
import { registerInputChecks } from './input.ts';
import { registerRequestLogging } from './request-log.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { auditLogRoutes } from './routes/audit-log.ts';
import { authRoutes } from './routes/auth.ts';
import { autoAttendantRoutes } from './routes/auto-attendants.ts';
import { billingProfileRoutes } from './routes/billing-profiles.ts';
import { bulkRoutes } from './routes/bulk.ts';
import { callForwardRoutes } from './routes/call-forwards.ts';
import { callRoutes } from './routes/calls.ts';
import { cdrRoutes } from './routes/cdrs.ts';
import { creditRoutes } from './routes/credit.ts';
import { creditNoteRoutes } from './routes/credit-notes.ts';
import { customerBillingSettingsRoutes } from './routes/customer-billing-settings.ts';
import { customerTrunkRoutes } from './routes/customer-trunks.ts';
import { customerRoutes } from './routes/customers.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { domainRoutes } from './routes/domains.ts';
import { emailVerificationRoutes } from './routes/email-verification.ts';
import { headerRuleBindingRoutes } from './routes/header-rule-bindings.ts';
import { headerRuleSetRoutes } from './routes/header-rule-sets.ts';
import { headerRuleRoutes } from './routes/header-rules.ts';
import { highRiskPrefixRoutes } from './routes/high-risk-prefixes.ts';
import { huntGroupRoutes } from './routes/hunt-groups.ts';
import { invoiceTemplateRoutes } from './routes/invoice-templates.ts';
import { invoiceRoutes } from './routes/invoices.ts';
import { ipBanRoutes } from './routes/ip-bans.ts';
import { messageRoutes } from './routes/messages.ts';
import { numberRoutes } from './routes/numbers.ts';
import { ladderRoute, metricsRoute } from './routes/observability.ts';
import type { RouteOptions } from './routes/options.ts';
import { passwordResetRoutes } from './routes/password-reset.ts';
import { peerGatewayRoutes } from './routes/peer-gateways.ts';
import { peerPolicyRoutes } from './routes/peer-policies.ts';
import { peeringGroupRoutes } from './routes/peering-groups.ts';
import { peeringRuleRoutes } from './routes/peering-rules.ts';
import { provisioningRoutes } from './routes/provisioning.ts';
import { pushBindingRoutes } from './routes/push-bindings.ts';
import { pushCredentialRoutes } from './routes/push-credentials.ts';
import { rateDeckRoutes } from './routes/rate-decks.ts';
import { ratingRoutes } from './routes/rating.ts';
import { recordingRoutes } from './routes/recordings.ts';
import { registrationRoutes } from './routes/registrations.ts';
import { resellerRoutes } from './routes/resellers.ts';
import { rewriteRuleSetRoutes } from './routes/rewrite-rule-sets.ts';
import { rewriteRuleRoutes } from './routes/rewrite-rules.ts';
import { routeStatsRoutes } from './routes/route-stats.ts';
import { settingRoutes } from './routes/settings.ts';
import { signupRoutes } from './routes/signup.ts';
import { subscriberPresenceRoutes } from './routes/subscriber-presence.ts';
import { subscriberRoutes } from './routes/subscribers.ts';
import { twoFactorRoutes } from './routes/two-factor.ts';
import { userRoutes } from './routes/users.ts';
import { voicemailRoutes } from './routes/voicemail.ts';
import { voucherRoutes } from './routes/vouchers.ts';
import { type ApiDeps, DEFAULT_LIMITS } from './types.ts';

export interface RegisteredRoute {
  method: string;
  url: string;
  hidden: boolean;
}
const registeredRoutes = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route the app registered (for checking the OpenAPI document against the real routes). */
export function routesOf(app: FastifyInstance): readonly RegisteredRoute[] {
  return registeredRoutes.get(app) ?? [];
}

const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60_000;

/** Error responses every authenticated route can give, added to each operation of the OpenAPI document. */
const COMMON_ERRORS: Record<string, string> = {
  '400': 'The request has invalid fields',
  '401': 'Missing, invalid, expired or revoked credential',
  '403': 'The role may not do this',
  '404': 'Not found (also for records of another tenant)',
  '409': 'Conflicts with existing data (unique value already in use, record still referenced)',
  '429': 'Too many requests; see Retry-After',
};

const HealthReport = Type.Object({
  status: Type.Enum(['ok', 'degraded']),
  components: Type.Record(
    Type.String(),
    Type.Object({ status: Type.Enum(['up', 'down', 'disabled']), detail: Type.Optional(Type.String()) }),
  ),
});

function problemResponse(description: string) {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } };
}

/**
 * The REST API as a Fastify instance: OpenAPI document and docs UI, health, `/api/v1` resources behind bearer
 * authentication, and optionally the built web app. Nothing listens here; `startApi` does that.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // registerRequestLogging writes one event per request, reads at debug.
    logController: new LogController({ disableRequestLogging: true }),
    // Forwarded headers are believed only from the proxies the operator names (API_TRUSTED_PROXIES): behind
    // one, every request would otherwise come from the proxy's address and share one login budget.
    trustProxy:
      deps.trustedProxies !== undefined && deps.trustedProxies.length > 0 ? [...deps.trustedProxies] : false,
    bodyLimit: 256 * 1024,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array' } },
  });
  const routes: RegisteredRoute[] = [];
  registeredRoutes.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      routes.push({ method, url: route.url, hidden: route.schema?.hide === true });
    }
  });
  registerErrorHandling(app);
  await app.register(securityHeaders);
  await app.register(fastifyCookie);
  registerInputChecks(app);
  registerRequestLogging(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard API',
        version: '1.0.0',
        description:
          'Provisioning and self-care API of the Switchboard VoIP platform. Errors are RFC 9457 problem details. ' +
          'Lists take `page`, `perPage`, `sort` (`field` or `-field`, comma-separated) and per-resource filters.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A login token from POST /api/v1/auth/login or an API key. The web app instead uses the ' +
              'HttpOnly session cookie the login sets, plus the X-CSRF-Token header on changes.',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url, route }) => {
      if (schema === undefined || !url.startsWith('/api/v1')) return { schema, url };
      const publicRoute = route.config?.public === true;
      const response: Record<string, unknown> = { ...((schema.response as Record<string, unknown>) ?? {}) };
      for (const [code, description] of Object.entries(COMMON_ERRORS)) {
        if (publicRoute && (code === '401' || code === '403')) continue;
        if (response[code] === undefined) response[code] = problemResponse(description);
      }
      return { schema: { ...schema, response }, url };
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { deepLinking: true, docExpansion: 'list' },
    staticCSP: true,
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/health',
    {
      schema: {
        tags: ['health'],
        operationId: 'health',
        summary: 'Platform health: 200 when every component is up or disabled, else 503',
        security: [],
        response: { 200: HealthReport, 503: HealthReport },
      },
    },
    async (_request, reply) => {
      let components: Awaited<ReturnType<ApiDeps['health']>>;
      try {
        components = await deps.health();
      } catch (err) {
        components = { health: { status: 'down', detail: (err as Error).message } };
      }
      const healthy = Object.values(components).every((c) => c.status === 'up' || c.status === 'disabled');
      return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'degraded', components });
    },
  );

  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const twoFactor = new TwoFactor(deps.prisma, now, limits, deps.push ?? {});
  const metrics = deps.metrics ?? createMetricsRegistry({ process: false });
  const routeOptions: RouteOptions = {
    prisma: deps.prisma,
    now,
    limits,
    sessionTtlMs: deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    activeCalls: deps.activeCalls ?? (async () => []),
    cookieSecure: deps.cookieSecure ?? 'auto',
    twoFactor,
  };
  const mailOptions = { ...routeOptions, mailer: deps.mailer, publicUrl: deps.publicUrl };
  app.addHook('onClose', async () => deps.mailer?.close());
  await app.register(
    async (v1) => {
      await v1.register(authenticatePlugin, {
        prisma: deps.prisma,
        now,
        twoFactorRequired: (role) => twoFactor.requiredFor(role),
      });
      await v1.register(createLimitPlugin, { limits: routeOptions.limits, now });
      await v1.register(authRoutes, routeOptions);
      await v1.register(apiKeyRoutes, routeOptions);
      await v1.register(signupRoutes, mailOptions);
      await v1.register(emailVerificationRoutes, mailOptions);
      await v1.register(passwordResetRoutes, mailOptions);
      await v1.register(twoFactorRoutes, routeOptions);
      await v1.register(provisioningRoutes, {
        ...routeOptions,
        publicUrl: deps.publicUrl,
        sipConnection: deps.sipConnection ?? (() => ({ host: undefined, listeners: [] })),
      });
      await v1.register(resellerRoutes, routeOptions);
      await v1.register(customerRoutes, routeOptions);
      await v1.register(domainRoutes, routeOptions);
      await v1.register(userRoutes, routeOptions);
      await v1.register(subscriberRoutes, routeOptions);
      await v1.register(subscriberPresenceRoutes, routeOptions);
      await v1.register(numberRoutes, routeOptions);
      await v1.register(bulkRoutes, routeOptions);
      await v1.register(callForwardRoutes, routeOptions);
      await v1.register(huntGroupRoutes, routeOptions);
      await v1.register(rewriteRuleSetRoutes, routeOptions);
      await v1.register(rewriteRuleRoutes, routeOptions);
      await v1.register(peeringGroupRoutes, routeOptions);
      await v1.register(billingProfileRoutes, routeOptions);
      await v1.register(rateDeckRoutes, routeOptions);
      await v1.register(ratingRoutes, routeOptions);
      await v1.register(invoiceRoutes, routeOptions);
      await v1.register(creditNoteRoutes, routeOptions);
      await v1.register(invoiceTemplateRoutes, routeOptions);
      await v1.register(customerBillingSettingsRoutes, routeOptions);
      await v1.register(customerTrunkRoutes, routeOptions);
      await v1.register(routeStatsRoutes, routeOptions);
      await v1.register(creditRoutes, routeOptions);
      await v1.register(voucherRoutes, routeOptions);
      await v1.register(highRiskPrefixRoutes, routeOptions);
      await v1.register(peerGatewayRoutes, { ...routeOptions, push: deps.push });
      await v1.register(peeringRuleRoutes, routeOptions);
      await v1.register(headerRuleSetRoutes, routeOptions);
      await v1.register(headerRuleRoutes, routeOptions);
      await v1.register(headerRuleBindingRoutes, routeOptions);
      await v1.register(peerPolicyRoutes, routeOptions);
      await v1.register(ipBanRoutes, routeOptions);
      await v1.register(registrationRoutes, routeOptions);
      await v1.register(callRoutes, routeOptions);
      await v1.register(cdrRoutes, routeOptions);
      await v1.register(recordingRoutes, {
        ...routeOptions,
        push: deps.push,
        objectStorage: deps.objectStorage,
        recordingsDir:
          deps.recordingsDir ??
          join(deps.push?.dataDir ?? process.env.DATA_DIR ?? './data', 'recordings', 'calls'),
      });
      await v1.register(messageRoutes, routeOptions);
      await v1.register(voicemailRoutes, {
        ...routeOptions,
        dataDir: deps.dataDir ?? deps.push?.dataDir,
        objectStorage: deps.objectStorage,
      });
      await v1.register(autoAttendantRoutes, {
        ...routeOptions,
        dataDir: deps.dataDir ?? deps.push?.dataDir,
      });
      await v1.register(auditLogRoutes, routeOptions);
      await v1.register(dashboardRoutes, { ...routeOptions, metrics });
      const pushOptions = { ...routeOptions, push: deps.push, logger: deps.logger, metrics };
      await v1.register(pushCredentialRoutes, pushOptions);
      await v1.register(pushBindingRoutes, pushOptions);
      await v1.register(ladderRoute, { prisma: deps.prisma, callLadder: deps.callLadder });
      await v1.register(settingRoutes, {
        ...routeOptions,
        environmentSettings: deps.environmentSettings ?? new Map(),
      });
    },
    { prefix: '/api/v1' },
  );

  await app.register(metricsRoute, {
    prisma: deps.prisma,
    now,
    metrics,
  });

  const webRoot = deps.webRoot === undefined ? undefined : resolve(deps.webRoot);
  if (webRoot !== undefined) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  const hasIndex = webRoot !== undefined && existsSync(join(webRoot, 'index.html'));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // The web app routes on the client: any non-API GET falls back to its index.html.
    if (hasIndex && (request.method === 'GET' || request.method === 'HEAD') && !path.startsWith('/api')) {
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    }
    return sendProblem(reply, 404, `No route for ${request.method} ${path}`);
  });

  return app;
}

export interface StartApiConfig {
  port: number;
  host?: string;
}

export interface RunningApi {
  address: string;
  port: number;
  close(): Promise<void>;
}

/** Builds the app and listens; `port: 0` picks a free port, reported back in `port`. */
export async function startApi(config: StartApiConfig, deps: ApiDeps): Promise<RunningApi> {
  const app = await buildApp(deps);
  await app.listen({ port: config.port, host: config.host ?? '0.0.0.0' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.port;
  const host = typeof addr === 'object' && addr !== null ? addr.address : (config.host ?? '0.0.0.0');
  const shown = host.includes(':') ? `[${host}]` : host;
  return { address: `http://${shown}:${port}`, port, close: () => app.close() };
}
