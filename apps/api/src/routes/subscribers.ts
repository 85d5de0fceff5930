import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { generateSecret, type PrismaClient, sipHa1 } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { assertSipPasswordAllowed } from '../auth/password-policy.ts';
import { IdParams, including, type Loaded, registerCrud, requireVisible } from '../crud.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { SUBSCRIBER_LOCK } from '../locks.ts';
import {
  AccountStatus,
  Digits,
  Name,
  Nullable,
  Patch,
  SipPassword,
  SipUsername,
  Timestamps,
  Uuid,
} from '../schemas.ts';
import { PROVIDER_ROLES, scopes, within } from '../tenancy.ts';
import { requireFreeAddress } from './call-addresses.ts';
import type { RouteOptions } from './options.ts';

/**
 * SIP subscribers. The password is never stored: creating a subscriber (or setting/resetting its password)
 * computes H(username:realm:password) for MD5 and SHA-256 with the domain name as realm, and a generated
 * password is returned once, in that response only.
 */

const PrefixList = Type.Array(Digits(1, 15), { maxItems: 100, uniqueItems: true });

const SubscriberProps = {
  username: SipUsername,
  displayName: Nullable(Name),
  status: AccountStatus,
  maxConcurrentCalls: Nullable(Type.Integer({ minimum: 0, maximum: 10_000 })),
  rewriteRuleSetId: Nullable(Uuid),
  clir: Type.Boolean({ description: 'Hide the caller number on outgoing calls' }),
  srtp: Type.Enum(['optional', 'preferred', 'mandatory'], {
    description:
      "SDES-SRTP (RFC 4568) on the call legs of this subscriber's phones: optional (plain RTP offered, SRTP kept when the phone offers it), preferred (SRTP offered to the phones, plain RTP accepted from them), mandatory (SRTP both ways; a plain RTP offer is refused with 488)",
  }),
  recordingMode: Nullable(
    Type.Enum(['off', 'always', 'on_demand'], {
      description: "Call recording of this subscriber's calls; null: its customer's setting (docs/pbx.md)",
    }),
  ),
  allowedCalleePrefixes: PrefixList,
  blockedCalleePrefixes: PrefixList,
};

export const Subscriber = Type.Object({
  id: Uuid,
  customerId: Uuid,
  domainId: Uuid,
  domain: Type.String({ description: 'Domain name, also the digest realm' }),
  sipUri: Type.String({ description: 'sip:username@domain' }),
  primaryNumber: Nullable(Type.String({ description: 'E.164 with leading +' })),
  customerName: Type.String(),
  online: Type.Boolean({ description: 'At least one registration (binding) has not expired' }),
  ...SubscriberProps,
  ...Timestamps,
});

const OneTimePassword = Type.String({ description: 'The SIP password. Shown only in this response.' });
const SubscriberWithPassword = Type.Object({ ...Subscriber.properties, password: OneTimePassword });

/**
 * Fields only the provider sets: limits, routing policy and the service status. A customer may not lock,
 * unlock or terminate its own subscribers, so a lock or termination by its reseller or the operator stays.
 */
const SUBSCRIBER_FIELD_ROLES = Object.fromEntries(
  ['status', 'maxConcurrentCalls', 'rewriteRuleSetId', 'allowedCalleePrefixes', 'blockedCalleePrefixes'].map(
    (f) => [f, PROVIDER_ROLES],
  ),
);

const include = {
  domain: { select: { name: true } },
  numbers: { where: { isPrimary: true }, select: { e164: true } },
  customer: { select: { name: true } },
  // The latest-expiring binding tells whether the subscriber is online.
  registrations: { select: { expiresAt: true }, orderBy: { expiresAt: 'desc' }, take: 1 },
} as const;

const subscriberModel = including((db) => db.subscriber, include);
type SubscriberRow = Loaded<PrismaClient['subscriber'], typeof include>;

function toItem(row: SubscriberRow) {
  const domain = row.domain.name;
  return {
    ...row,
    domain,
    sipUri: `sip:${row.username}@${domain}`,
    primaryNumber: row.numbers[0]?.e164 ?? null,
    customerName: row.customer.name,
    online: row.registrations.some((b) => b.expiresAt.getTime() > Date.now()),
  };
}

export async function subscriberRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  registerCrud(app, prisma, {
    path: '/subscribers',
    entity: 'subscribers',
    singular: 'subscriber',
    tag: 'subscribers',
    ...subscriberModel,
    item: Subscriber,
    createResponse: SubscriberWithPassword,
    toItem,
    create: Type.Object(
      {
        customerId: Type.Optional(Uuid),
        domainId: Uuid,
        username: SipUsername,
        password: Type.Optional(SipPassword),
        displayName: Type.Optional(SubscriberProps.displayName),
        status: Type.Optional(AccountStatus),
        maxConcurrentCalls: Type.Optional(SubscriberProps.maxConcurrentCalls),
        rewriteRuleSetId: Type.Optional(SubscriberProps.rewriteRuleSetId),
        clir: Type.Optional(SubscriberProps.clir),
        srtp: Type.Optional(SubscriberProps.srtp),
        recordingMode: Type.Optional(SubscriberProps.recordingMode),
        allowedCalleePrefixes: Type.Optional(PrefixList),
        blockedCalleePrefixes: Type.Optional(PrefixList),
      },
      { additionalProperties: false },
    ),
    update: Patch({ ...SubscriberProps, password: SipPassword }),
    list: {
      sortable: ['username', 'createdAt', 'status'],
      defaultSort: 'username',
      filters: {
        username: { type: 'string', op: 'contains' },
        q: {
          type: 'string',
          op: 'contains',
          anyOf: ['username', 'displayName', 'numbers.some.e164'],
          description: 'Search the user name, display name and numbers',
        },
        customerId: { type: 'string' },
        domainId: { type: 'string' },
        domain: { type: 'string', field: 'domain.name' },
        status: { type: 'enum', values: ['active', 'locked', 'terminated'] },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller', 'customer'],
    readScope: scopes.subscriber,
    fieldRoles: SUBSCRIBER_FIELD_ROLES,
    lock: SUBSCRIBER_LOCK,
    toCreateData: async (ctx, body) => {
      const p = ctx.principal;
      const customerId = p.role === 'customer' ? p.customerId : body.customerId;
      if (customerId === undefined || customerId === null) {
        throw badRequest('customerId is required', [{ field: '/body/customerId', message: 'required' }]);
      }
      const customer = await requireVisible(
        ctx.tx,
        (db) => db.customer,
        scopes.customer(p),
        customerId,
        'Customer',
        '/body/customerId',
      );
      const domain = await requireVisible(
        ctx.tx,
        (db) => db.domain,
        scopes.domainForNewSubscribers(p),
        body.domainId,
        'Domain',
        '/body/domainId',
      );
      if (body.rewriteRuleSetId) {
        await requireVisible(
          ctx.tx,
          (db) => db.rewriteRuleSet,
          scopes.rewriteRuleSetRead(p),
          body.rewriteRuleSetId,
          'Rewrite rule set',
          '/body/rewriteRuleSetId',
        );
      }
      const max = customer.maxSubscribers;
      if (max !== null) {
        const count = await ctx.tx.subscriber.count({ where: { customerId } });
        if (count >= max) throw conflict(`The customer has reached its limit of ${max} subscribers`);
      }
      const username = body.username.toLowerCase();
      await requireFreeAddress(ctx.tx, 'subscriber', body.domainId, username);
      const password = body.password ?? generateSecret(20);
      if (body.password !== undefined) assertSipPasswordAllowed(password, username, domain.name);
      const { password: _omit, ...rest } = body;
      return {
        data: { ...rest, customerId, username, ...sipHa1(username, domain.name, password) },
        reveal: { password },
      };
    },
    toUpdateData: async (ctx, body, existing) => {
      const username = body.username?.toLowerCase() ?? existing.username;
      if (username !== existing.username && body.password === undefined) {
        throw badRequest(
          'Changing the username needs a new password: the stored digests include the username',
          [{ field: '/body/password', message: 'required when username changes' }],
        );
      }
      if (body.rewriteRuleSetId) {
        await requireVisible(
          ctx.tx,
          (db) => db.rewriteRuleSet,
          scopes.rewriteRuleSetRead(ctx.principal),
          body.rewriteRuleSetId,
          'Rewrite rule set',
          '/body/rewriteRuleSetId',
        );
      }
      const { password, ...rest } = body;
      if (password === undefined) return { data: { ...rest, username } };
      const realm = existing.domain.name;
      assertSipPasswordAllowed(password, username, realm);
      return { data: { ...rest, username, ...sipHa1(username, realm, password) } };
    },
  });

  app.post(
    '/subscribers/:id/reset-password',
    {
      config: { roles: ['operator', 'reseller', 'customer'] },
      schema: {
        tags: ['subscribers'],
        operationId: 'resetSubscriberPassword',
        summary: 'Generate a new SIP password',
        description: 'The new password is returned once; devices must be reconfigured with it.',
        params: IdParams,
        response: { 200: Type.Object({ id: Uuid, sipUri: Type.String(), password: OneTimePassword }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      return prisma.$transaction(async (tx) => {
        const row = await tx.subscriber.findFirst({
          where: within(scopes.subscriber(principal), { id }),
          include,
        });
        if (row === null) throw notFound('Subscriber');
        const password = generateSecret(20);
        const realm = row.domain.name;
        await tx.subscriber.update({ where: { id }, data: sipHa1(row.username, realm, password) });
        await writeAudit(tx, request, { action: 'reset-password', entity: 'subscribers', entityId: id });
        return { id, sipUri: toItem(row).sipUri, password };
      });
    },
  );
}
