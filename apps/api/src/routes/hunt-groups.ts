import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Tx } from '../audit.ts';
import { registerCrud } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Name, Nullable, Patch, SipUsername, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { addressListOptions, ownerOfNewAddress, requireFreeAddress } from './call-addresses.ts';
import type { RouteOptions } from './options.ts';

/**
 * Hunt groups of a customer: a user part in a domain that rings the customer's subscribers in parallel,
 * in order or round robin, then a no-answer destination. A customer sees and edits only its own.
 */

const Strategy = Type.Enum(['parallel', 'sequential', 'round_robin'], {
  description:
    'parallel: all members at once; sequential: in order; round_robin: in order, starting one further each call',
});
const DestinationKind = Type.Enum(['uri', 'number', 'voicemail'], {
  description:
    "uri: a subscriber (sip:user@domain or a user name of the group domain); number: one of our numbers; voicemail: that subscriber's voicemail box (named as for uri)",
});
const RingTimeout = Type.Integer({
  minimum: 1,
  maximum: 600,
  description: 'Seconds each member rings (sequential, round robin) or the group rings (parallel)',
});
const NoAnswerDestination = Type.String({ minLength: 1, maxLength: 255 });
const Members = Type.Array(Uuid, {
  maxItems: 50,
  uniqueItems: true,
  description: 'Subscriber ids of the customer, in the order they are rung',
});

export const HuntGroup = Type.Object({
  id: Uuid,
  customerId: Uuid,
  domainId: Uuid,
  username: Type.String(),
  name: Type.String(),
  strategy: Strategy,
  ringTimeout: Type.Integer(),
  noAnswerKind: Nullable(DestinationKind),
  noAnswerDestination: Nullable(Type.String()),
  enabled: Type.Boolean(),
  sipUri: Type.String({ description: 'sip:username@domain' }),
  members: Type.Array(Type.Object({ subscriberId: Uuid, position: Type.Integer() })),
  ...Timestamps,
});

interface Row {
  id: string;
  username: string;
  domain: { name: string };
  members: Array<{ subscriberId: string; position: number }>;
  [field: string]: unknown;
}

function toItem(row: Row) {
  const { domain, members, ...rest } = row;
  return {
    ...rest,
    id: row.id,
    sipUri: `sip:${row.username}@${domain.name}`,
    members: members.map((m) => ({ subscriberId: m.subscriberId, position: m.position })),
  };
}

/** Both destination fields or neither; a uri looks like one, a number is digits as dialled. */
function checkNoAnswer(kind: string | null | undefined, destination: string | null | undefined): void {
  if ((kind ?? null) === null && (destination ?? null) === null) return;
  if (!kind || !destination)
    throw badRequest('noAnswerKind and noAnswerDestination go together', [
      {
        field: kind ? '/body/noAnswerDestination' : '/body/noAnswerKind',
        message: 'required with the other',
      },
    ]);
  if ((kind === 'uri' || kind === 'voicemail') && !/^(?:sips?:)?[^\s@:]+(?:@[^\s@]+)?$/i.test(destination))
    throw badRequest('A uri destination is sip:user@domain or a user name', [
      { field: '/body/noAnswerDestination', message: 'expected sip:user@host or a user name' },
    ]);
  if (kind === 'number' && !/^\+?[0-9]{1,32}$/.test(destination))
    throw badRequest('A number destination is digits as dialled', [
      { field: '/body/noAnswerDestination', message: 'expected digits, optionally with leading +' },
    ]);
}

/** Every member must be a subscriber of the group's customer (and visible to the caller of the API). */
async function checkMembers(tx: Tx, customerId: string, members: readonly string[]): Promise<void> {
  const found = await tx.subscriber.findMany({
    where: { id: { in: [...members] }, customerId },
    select: { id: true },
  });
  const known = new Set(found.map((s) => s.id));
  const index = members.findIndex((id) => !known.has(id));
  if (index >= 0)
    throw badRequest('A member is not a subscriber of the customer', [
      { field: `/body/members/${index}`, message: 'unknown subscriber of this customer' },
    ]);
}

const positioned = (members: readonly string[]) =>
  members.map((subscriberId, position) => ({ subscriberId, position }));

export async function huntGroupRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/hunt-groups',
    entity: 'hunt-groups',
    singular: 'hunt group',
    tag: 'hunt-groups',
    model: (db) => db.huntGroup,
    include: { domain: { select: { name: true } }, members: { orderBy: { position: 'asc' } } },
    item: HuntGroup,
    toItem: (row) => toItem(row as unknown as Row),
    create: Type.Object(
      {
        customerId: Type.Optional(Uuid),
        domainId: Uuid,
        username: SipUsername,
        name: Name,
        strategy: Type.Optional(Strategy),
        ringTimeout: Type.Optional(RingTimeout),
        noAnswerKind: Type.Optional(Nullable(DestinationKind)),
        noAnswerDestination: Type.Optional(Nullable(NoAnswerDestination)),
        enabled: Type.Optional(Type.Boolean()),
        members: Members,
      },
      { additionalProperties: false },
    ),
    update: Patch({
      name: Name,
      strategy: Strategy,
      ringTimeout: RingTimeout,
      noAnswerKind: Nullable(DestinationKind),
      noAnswerDestination: Nullable(NoAnswerDestination),
      enabled: Type.Boolean(),
      members: Members,
    }),
    list: addressListOptions,
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller', 'customer'],
    // Like subscribers: a customer its own groups, a reseller its customers', the operator all.
    readScope: scopes.subscriber,
    toCreateData: async (ctx, body) => {
      const customerId = await ownerOfNewAddress(ctx.tx, ctx.principal, body);
      const username = body.username.toLowerCase();
      await requireFreeAddress(ctx.tx, 'huntGroup', body.domainId, username);
      checkNoAnswer(body.noAnswerKind, body.noAnswerDestination);
      await checkMembers(ctx.tx, customerId, body.members);
      const { members, ...rest } = body;
      return { data: { ...rest, customerId, username, members: { create: positioned(members) } } };
    },
    toUpdateData: async (ctx, body, existing) => {
      const row = existing as unknown as {
        customerId: string;
        noAnswerKind: string | null;
        noAnswerDestination: string | null;
      };
      checkNoAnswer(
        body.noAnswerKind !== undefined ? body.noAnswerKind : row.noAnswerKind,
        body.noAnswerDestination !== undefined ? body.noAnswerDestination : row.noAnswerDestination,
      );
      const { members, ...rest } = body;
      if (members === undefined) return { data: rest };
      await checkMembers(ctx.tx, row.customerId, members);
      return { data: { ...rest, members: { deleteMany: {}, create: positioned(members) } } };
    },
  });
}
