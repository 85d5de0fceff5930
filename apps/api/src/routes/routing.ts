import { isIP } from 'node:net';
import { sipHa1 } from '@switchboard/db';
import {
  applyRewrite,
  buildLcrTable,
  compileRuleSet,
  NumberingError,
  type PeeringRuleData,
  REWRITE_VARIABLES,
  type RewriteRuleData,
  selectRoutes,
  validatePeeringRule,
  validateRewriteRule,
} from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { IdParams, registerCrud, requireVisible } from '../crud.ts';
import { badRequest, notFoundField, unprocessable } from '../errors.ts';
import {
  Description,
  Digits,
  HostName,
  Name,
  Nullable,
  Patch,
  Timestamp,
  Timestamps,
  TransportEnum,
  Uuid,
} from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import type { RouteOptions } from './options.ts';
import { checkRuleSet } from './tenants.ts';

/** Number rewriting, PSTN peering (groups, gateways, rules) and IP bans: the routing policy of the platform. */

/**
 * Rules are checked with the number mapper's own validation (RE2-safe patterns, replacements that only use
 * existing groups and known variables), so that whatever is saved here is what the SIP path can run.
 */
function checkRewriteRule(body: Record<string, unknown>, existing?: Record<string, unknown>): void {
  const merged = { ...(existing ?? {}), ...body } as Pick<
    RewriteRuleData,
    'direction' | 'field' | 'matchPattern' | 'replacement'
  >;
  try {
    validateRewriteRule(merged);
  } catch (err) {
    if (!(err instanceof NumberingError)) throw err;
    const field = err.code === 'invalid-replacement' ? '/body/replacement' : '/body/matchPattern';
    throw badRequest(`Invalid rewrite rule: ${err.message}`, [{ field, message: err.message }]);
  }
}

function checkPeeringRule(body: Record<string, unknown>, existing?: Record<string, unknown>): void {
  const merged = { calleePrefix: '', callerPattern: null, ...(existing ?? {}), ...body } as Pick<
    PeeringRuleData,
    'calleePrefix' | 'callerPattern'
  >;
  try {
    validatePeeringRule(merged);
  } catch (err) {
    if (!(err instanceof NumberingError)) throw err;
    const field = err.code === 'invalid-rule' ? '/body/calleePrefix' : '/body/callerPattern';
    throw badRequest(`Invalid peering rule: ${err.message}`, [{ field, message: err.message }]);
  }
}

// --- rewrite rules -------------------------------------------------------------------------------------

export const RewriteRuleSet = Type.Object({
  id: Uuid,
  resellerId: Nullable(Uuid),
  name: Name,
  description: Nullable(Description),
  ...Timestamps,
});

const RuleProps = {
  direction: Type.Enum(['inbound_from_peer', 'outbound_to_peer', 'from_subscriber', 'to_subscriber']),
  field: Type.Enum(['caller', 'callee']),
  matchPattern: Type.String({
    minLength: 1,
    maxLength: 256,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: rewrite-rule syntax, not a template
    description: 'Regular expression (RE2 subset of ECMAScript syntax); may use ${cc}, ${ac}, ... variables',
  }),
  replacement: Type.String({
    maxLength: 256,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: rewrite-rule syntax, not a template
    description: 'Replacement: $1 or ${1} for groups, ${variable} for variables, $$ for a literal $',
  }),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  enabled: Type.Boolean(),
  description: Nullable(Description),
};
export const RewriteRule = Type.Object({ id: Uuid, ruleSetId: Uuid, ...RuleProps, ...Timestamps });

const RewriteVariablesSchema = Type.Object(
  Object.fromEntries(REWRITE_VARIABLES.map((v) => [v, Type.Optional(Type.String({ maxLength: 64 }))])),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: rewrite-rule syntax, not a template
  { additionalProperties: false, description: 'Values for ${variable}s in patterns and replacements' },
);

const RewriteTestResult = Type.Object({
  input: Type.String(),
  output: Type.String(),
  matchedRuleId: Nullable(Type.String()),
  trace: Type.Array(
    Type.Object({
      ruleId: Type.String(),
      priority: Type.Integer(),
      matchPattern: Type.String(),
      replacement: Type.String(),
      evaluated: Type.Boolean({ description: 'False for rules after the first match' }),
      matched: Type.Boolean(),
      before: Type.String(),
      after: Type.String(),
    }),
  ),
});

// --- peering --------------------------------------------------------------------------------------------

const GroupProps = {
  name: Name,
  description: Nullable(Description),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  enabled: Type.Boolean(),
  rewriteRuleSetId: Nullable(Uuid),
};
export const PeeringGroup = Type.Object({ id: Uuid, ...GroupProps, ...Timestamps });

const Cidr = Type.String({ minLength: 2, maxLength: 64, description: 'IP address or CIDR block' });
const GatewayProps = {
  name: Name,
  host: HostName,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  transport: TransportEnum,
  authUsername: Nullable(Type.String({ minLength: 1, maxLength: 128 })),
  authRealm: Nullable(Type.String({ minLength: 1, maxLength: 253 })),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  weight: Type.Integer({ minimum: 0, maximum: 65535 }),
  enabled: Type.Boolean(),
  trustedSources: Type.Array(Cidr, { maxItems: 100 }),
};
const AuthPassword = Nullable(
  Type.String({ minLength: 1, maxLength: 128, description: 'Write-only; never returned' }),
);
export const PeerGateway = Type.Object({
  id: Uuid,
  groupId: Uuid,
  ...GatewayProps,
  hasAuthPassword: Type.Boolean({ description: 'Whether credentials for the peer are configured' }),
  ...Timestamps,
});

const PeeringRuleProps = {
  calleePrefix: Digits(0, 15, 'Normalised callee prefix; empty matches every callee'),
  callerPattern: Nullable(
    Type.String({ minLength: 1, maxLength: 512, description: 'Regular expression on the caller' }),
  ),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  enabled: Type.Boolean(),
  description: Nullable(Description),
};
export const PeeringRule = Type.Object({ id: Uuid, groupId: Uuid, ...PeeringRuleProps, ...Timestamps });

const LcrTestResult = Type.Object({
  callee: Type.String(),
  caller: Nullable(Type.String()),
  routes: Type.Array(
    Type.Object({
      gatewayId: Uuid,
      gatewayName: Type.String(),
      groupId: Uuid,
      groupName: Type.String(),
      host: Type.String(),
      port: Type.Integer(),
      transport: TransportEnum,
      ruleId: Uuid,
      calleePrefix: Type.String(),
    }),
    { description: 'Gateways in failover order' },
  ),
  rejectedRules: Type.Array(Type.Object({ ruleId: Type.String(), reason: Type.String() }), {
    description: 'Rules the router ignores (e.g. an unsafe caller pattern saved before validation existed)',
  }),
});

function isCidr(value: string): boolean {
  const [addr, bits, ...rest] = value.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function checkSources(list: unknown): void {
  if (!Array.isArray(list)) return;
  list.forEach((s, i) => {
    if (!isCidr(String(s))) {
      throw badRequest('Not an IP address or CIDR block', [
        { field: `/body/trustedSources/${i}`, message: 'expected IP or CIDR' },
      ]);
    }
  });
}

/**
 * Peer credentials: with a realm, store only the HA1 digests; without one, the password has to be kept (the
 * realm comes from the peer's challenge), never returned by the API.
 */
function gatewayCredentials(
  body: Record<string, unknown>,
  existing?: Record<string, unknown>,
): Record<string, unknown> {
  const { authPassword, ...rest } = body;
  const username = (body.authUsername !== undefined ? body.authUsername : existing?.authUsername) as
    | string
    | null;
  const realm = (body.authRealm !== undefined ? body.authRealm : existing?.authRealm) as string | null;
  if (authPassword === undefined) {
    if (body.authUsername !== undefined || body.authRealm !== undefined) {
      if (
        existing?.authHa1Md5 &&
        !existing.authPassword &&
        (username !== existing.authUsername || realm !== existing.authRealm)
      ) {
        throw badRequest('Changing the username or realm needs the password again', [
          { field: '/body/authPassword', message: 'required when authUsername or authRealm changes' },
        ]);
      }
    }
    return rest;
  }
  if (authPassword === null) return { ...rest, authPassword: null, authHa1Md5: null, authHa1Sha256: null };
  if (!username) {
    throw badRequest('A password needs a username', [
      { field: '/body/authUsername', message: 'required with authPassword' },
    ]);
  }
  if (realm) {
    const ha1 = sipHa1(username, realm, String(authPassword));
    return { ...rest, authPassword: null, authHa1Md5: ha1.ha1Md5, authHa1Sha256: ha1.ha1Sha256 };
  }
  return { ...rest, authPassword, authHa1Md5: null, authHa1Sha256: null };
}

const gatewayItem = (row: Record<string, unknown>) => ({
  ...row,
  hasAuthPassword: Boolean(row.authPassword) || Boolean(row.authHa1Md5),
});

// --- IP bans --------------------------------------------------------------------------------------------

export const IpBan = Type.Object({
  id: Uuid,
  address: Cidr,
  reason: Nullable(Description),
  expiresAt: Nullable(Timestamp),
  createdBy: Type.String(),
  createdByUserId: Nullable(Uuid),
  hitCount: Type.Integer(),
  lastHitAt: Nullable(Timestamp),
  ...Timestamps,
});

function canonicalAddress(value: unknown): string {
  const s = String(value).trim().toLowerCase();
  if (!isCidr(s))
    throw badRequest('Not an IP address or CIDR block', [
      { field: '/body/address', message: 'expected IP or CIDR' },
    ]);
  return s;
}

const operatorOnly = ['operator'] as const;
const usingRuleSet = (id: string) => ({ rewriteRuleSetId: id });
const all = (_p: Principal) => ({});

export async function routingRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/rewrite-rule-sets',
    entity: 'rewrite-rule-sets',
    singular: 'rewrite rule set',
    tag: 'rewriting',
    model: 'rewriteRuleSet',
    item: RewriteRuleSet,
    create: Type.Object(
      {
        name: Name,
        description: Type.Optional(Nullable(Description)),
        resellerId: Type.Optional(Nullable(Uuid)),
      },
      { additionalProperties: false },
    ),
    update: Patch({ name: Name, description: Nullable(Description) }),
    list: {
      sortable: ['name', 'createdAt'],
      defaultSort: 'name',
      filters: { name: { type: 'string', op: 'contains' }, resellerId: { type: 'string' } },
    },
    readRoles: ['operator', 'reseller'],
    writeRoles: ['operator', 'reseller'],
    readScope: scopes.rewriteRuleSetRead,
    writeScope: scopes.rewriteRuleSetWrite,
    // Its rules go with it; domains, subscribers and peering groups using it would silently lose it.
    dependants: [
      { entity: 'rewrite-rules', model: 'rewriteRule', where: (id) => ({ ruleSetId: id }) },
      { entity: 'domains', model: 'domain', where: usingRuleSet, detach: 'rewriteRuleSetId' },
      { entity: 'subscribers', model: 'subscriber', where: usingRuleSet, detach: 'rewriteRuleSetId' },
      { entity: 'peering-groups', model: 'peeringGroup', where: usingRuleSet, detach: 'rewriteRuleSetId' },
    ],
    toCreateData: async (ctx, body) => {
      const p = ctx.principal;
      let resellerId = (body.resellerId as string | null | undefined) ?? null;
      if (p.role === 'reseller') {
        if (body.resellerId !== undefined && body.resellerId !== p.resellerId) {
          throw notFoundField('Reseller', '/body/resellerId');
        }
        resellerId = p.resellerId;
      } else if (resellerId !== null) {
        const r = await ctx.tx.reseller.findUnique({ where: { id: resellerId } });
        if (r === null) throw notFoundField('Reseller', '/body/resellerId');
      }
      return { data: { ...body, resellerId } };
    },
  });

  const ruleSetParent = {
    param: 'ruleSetId',
    field: 'ruleSetId',
    model: 'rewriteRuleSet',
    label: 'Rewrite rule set',
    readScope: scopes.rewriteRuleSetRead,
    writeScope: scopes.rewriteRuleSetWrite,
  };
  registerCrud(app, prisma, {
    path: '/rewrite-rule-sets/:ruleSetId/rules',
    entity: 'rewrite-rules',
    singular: 'rewrite rule',
    tag: 'rewriting',
    model: 'rewriteRule',
    item: RewriteRule,
    parent: ruleSetParent,
    create: Type.Object(
      {
        direction: RuleProps.direction,
        field: RuleProps.field,
        matchPattern: RuleProps.matchPattern,
        replacement: RuleProps.replacement,
        priority: Type.Optional(RuleProps.priority),
        enabled: Type.Optional(RuleProps.enabled),
        description: Type.Optional(RuleProps.description),
      },
      { additionalProperties: false },
    ),
    update: Patch(RuleProps),
    list: {
      sortable: ['priority', 'direction', 'field', 'createdAt'],
      defaultSort: 'direction,field,priority',
      filters: {
        direction: {
          type: 'enum',
          values: ['inbound_from_peer', 'outbound_to_peer', 'from_subscriber', 'to_subscriber'],
        },
        field: { type: 'enum', values: ['caller', 'callee'] },
        enabled: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller'],
    writeRoles: ['operator', 'reseller'],
    // The parent check already limits rules to visible (read) or owned (write) rule sets.
    readScope: (p) => (p.role === 'operator' ? {} : { ruleSet: scopes.rewriteRuleSetRead(p) }),
    writeScope: (p) => (p.role === 'operator' ? {} : { ruleSet: scopes.rewriteRuleSetWrite(p) }),
    toCreateData: async (_ctx, body) => {
      checkRewriteRule(body);
      return { data: body };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkRewriteRule(body, existing);
      return { data: body };
    },
  });

  registerCrud(app, prisma, {
    path: '/peering-groups',
    entity: 'peering-groups',
    singular: 'peering group',
    tag: 'peering',
    model: 'peeringGroup',
    item: PeeringGroup,
    create: Type.Object(
      {
        name: Name,
        description: Type.Optional(GroupProps.description),
        priority: Type.Optional(GroupProps.priority),
        enabled: Type.Optional(GroupProps.enabled),
        rewriteRuleSetId: Type.Optional(GroupProps.rewriteRuleSetId),
      },
      { additionalProperties: false },
    ),
    update: Patch(GroupProps),
    list: {
      sortable: ['name', 'priority', 'createdAt'],
      defaultSort: 'priority,name',
      filters: { name: { type: 'string', op: 'contains' }, enabled: { type: 'boolean' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    dependants: [
      { entity: 'peer-gateways', model: 'peerGateway', where: (id) => ({ groupId: id }) },
      { entity: 'peering-rules', model: 'peeringRule', where: (id) => ({ groupId: id }) },
    ],
    toCreateData: async (ctx, body) => {
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      return { data: body };
    },
    toUpdateData: async (ctx, body) => {
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      return { data: body };
    },
  });

  const groupParent = {
    param: 'groupId',
    field: 'groupId',
    model: 'peeringGroup',
    label: 'Peering group',
    readScope: all,
  };
  registerCrud(app, prisma, {
    path: '/peering-groups/:groupId/gateways',
    entity: 'peer-gateways',
    singular: 'gateway',
    tag: 'peering',
    model: 'peerGateway',
    item: PeerGateway,
    parent: groupParent,
    toItem: gatewayItem,
    create: Type.Object(
      {
        name: Name,
        host: HostName,
        port: Type.Optional(GatewayProps.port),
        transport: Type.Optional(GatewayProps.transport),
        authUsername: Type.Optional(GatewayProps.authUsername),
        authPassword: Type.Optional(AuthPassword),
        authRealm: Type.Optional(GatewayProps.authRealm),
        priority: Type.Optional(GatewayProps.priority),
        weight: Type.Optional(GatewayProps.weight),
        enabled: Type.Optional(GatewayProps.enabled),
        trustedSources: Type.Optional(GatewayProps.trustedSources),
      },
      { additionalProperties: false },
    ),
    update: Patch({ ...GatewayProps, authPassword: AuthPassword }),
    list: {
      sortable: ['name', 'priority', 'weight', 'createdAt'],
      defaultSort: 'priority,name',
      filters: {
        name: { type: 'string', op: 'contains' },
        host: { type: 'string' },
        enabled: { type: 'boolean' },
      },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (_ctx, body) => {
      checkSources(body.trustedSources);
      return { data: gatewayCredentials(body) };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkSources(body.trustedSources);
      return { data: gatewayCredentials(body, existing) };
    },
  });

  registerCrud(app, prisma, {
    path: '/peering-groups/:groupId/rules',
    entity: 'peering-rules',
    singular: 'peering rule',
    tag: 'peering',
    model: 'peeringRule',
    item: PeeringRule,
    parent: groupParent,
    create: Type.Object(
      {
        calleePrefix: Type.Optional(PeeringRuleProps.calleePrefix),
        callerPattern: Type.Optional(PeeringRuleProps.callerPattern),
        priority: Type.Optional(PeeringRuleProps.priority),
        enabled: Type.Optional(PeeringRuleProps.enabled),
        description: Type.Optional(PeeringRuleProps.description),
      },
      { additionalProperties: false },
    ),
    update: Patch(PeeringRuleProps),
    list: {
      sortable: ['calleePrefix', 'priority', 'createdAt'],
      defaultSort: 'calleePrefix,priority',
      filters: { calleePrefix: { type: 'string', op: 'startsWith' }, enabled: { type: 'boolean' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (_ctx, body) => {
      checkPeeringRule(body);
      return { data: body };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkPeeringRule(body, existing);
      return { data: body };
    },
  });

  registerCrud(app, prisma, {
    path: '/ip-bans',
    entity: 'ip-bans',
    singular: 'IP ban',
    tag: 'security',
    model: 'ipBan',
    item: IpBan,
    create: Type.Object(
      {
        address: Cidr,
        reason: Type.Optional(Nullable(Description)),
        expiresAt: Type.Optional(Nullable(Timestamp)),
      },
      { additionalProperties: false },
    ),
    update: Patch({ reason: Nullable(Description), expiresAt: Nullable(Timestamp) }),
    list: {
      sortable: ['address', 'createdAt', 'expiresAt', 'hitCount'],
      defaultSort: '-createdAt',
      filters: { address: { type: 'string', op: 'startsWith' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (ctx, body) => ({
      data: {
        address: canonicalAddress(body.address),
        reason: body.reason ?? null,
        expiresAt: typeof body.expiresAt === 'string' ? new Date(body.expiresAt) : null,
        createdBy: ctx.principal.email,
        createdByUserId: ctx.principal.userId,
      },
    }),
    toUpdateData: async (_ctx, body) => ({
      data: {
        ...body,
        ...(body.expiresAt !== undefined
          ? { expiresAt: typeof body.expiresAt === 'string' ? new Date(body.expiresAt) : null }
          : {}),
      },
    }),
  });

  // --- testers: run the number mapper's own code against the saved configuration ----------------------
  app.post(
    '/rewrite-rule-sets/:id/test',
    {
      config: { roles: ['operator', 'reseller'] },
      schema: {
        tags: ['rewriting'],
        operationId: 'testRewriteRuleSet',
        summary: 'Run a number through a rule set and show which rule matched',
        params: IdParams,
        body: Type.Object(
          {
            direction: RuleProps.direction,
            field: RuleProps.field,
            value: Type.String({ minLength: 1, maxLength: 128 }),
            variables: Type.Optional(RewriteVariablesSchema),
          },
          { additionalProperties: false },
        ),
        response: { 200: RewriteTestResult },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params as { id: string };
      const body = request.body as {
        direction: RewriteRuleData['direction'];
        field: RewriteRuleData['field'];
        value: string;
        variables?: Record<string, string>;
      };
      const set = await requireVisible(
        prisma,
        'rewriteRuleSet',
        scopes.rewriteRuleSetRead(principal),
        id,
        'Rewrite rule set',
      );
      const rules = await prisma.rewriteRule.findMany({ where: { ruleSetId: id } });
      let compiled: ReturnType<typeof compileRuleSet>;
      try {
        compiled = compileRuleSet({ id, name: String(set.name), rules });
      } catch (err) {
        if (err instanceof NumberingError)
          throw unprocessable(`The rule set does not compile: ${err.message}`);
        throw err;
      }
      return applyRewrite(compiled, body.direction, body.field, body.value, body.variables ?? {});
    },
  );

  app.post(
    '/peering-groups/test-route',
    {
      config: { roles: operatorOnly },
      schema: {
        tags: ['peering'],
        operationId: 'testRoute',
        summary: 'Least-cost routing: which gateways a call to this number would try, in order',
        description: 'Gateways of equal priority are ordered by a weighted random draw, as for a real call.',
        body: Type.Object(
          {
            callee: Type.String({ pattern: '^\\+?[0-9]{1,15}$', description: 'E.164 number, + optional' }),
            caller: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{1,15}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: LcrTestResult },
      },
    },
    async (request) => {
      const body = request.body as { callee: string; caller?: string };
      const callee = body.callee.replace(/^\+/, '');
      const caller = body.caller === undefined ? null : body.caller.replace(/^\+/, '');
      const [groups, gateways, rules] = await Promise.all([
        prisma.peeringGroup.findMany(),
        prisma.peerGateway.findMany(),
        prisma.peeringRule.findMany(),
      ]);
      const table = buildLcrTable({
        peeringGroups: groups.map((g) => ({ ...g, rewriteRuleSetId: null })),
        gateways,
        peeringRules: rules,
      });
      return { callee, caller, routes: selectRoutes(table, callee, caller), rejectedRules: table.rejected };
    },
  );
}
