import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { registerCrud, requireVisible } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';

/** Call forwards of a subscriber (unconditional, busy, no answer, not available) and their destinations. */

const CfType = Type.Enum(['cfu', 'cfb', 'cft', 'cfna'], {
  description: 'unconditional, on busy, on no answer (timeout), on not available',
});
const Destination = Type.Object(
  {
    kind: Type.Enum(['uri', 'number', 'voicemail'], {
      description: "voicemail: the subscriber's own voicemail box (destination empty)",
    }),
    destination: Type.String({ maxLength: 255 }),
    ringTimeout: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 600 }))),
  },
  { additionalProperties: false },
);
const Destinations = Type.Array(Destination, { minItems: 1, maxItems: 10 });

export const CallForward = Type.Object({
  id: Uuid,
  subscriberId: Uuid,
  type: CfType,
  enabled: Type.Boolean(),
  ringTimeout: Nullable(Type.Integer()),
  destinations: Type.Array(
    Type.Object({
      position: Type.Integer(),
      kind: Type.Enum(['uri', 'number', 'voicemail']),
      destination: Type.String(),
      ringTimeout: Nullable(Type.Integer()),
    }),
  ),
  ...Timestamps,
});

type DestinationFields = Static<typeof Destination>;

function checkDestinations(list: readonly DestinationFields[]): readonly DestinationFields[] {
  list.forEach((d, i) => {
    if (d.kind === 'uri' && !/^sips?:[^\s@]+@[^\s]+$/i.test(d.destination)) {
      throw badRequest('A uri destination is a SIP URI', [
        { field: `/body/destinations/${i}/destination`, message: 'expected sip:user@host' },
      ]);
    }
    if (d.kind === 'voicemail' && d.destination !== '') {
      throw badRequest("A voicemail destination is the subscriber's own box", [
        { field: `/body/destinations/${i}/destination`, message: 'must be empty for voicemail' },
      ]);
    }
    if (d.kind === 'number' && !/^\+?[0-9*#]{1,32}$/.test(d.destination)) {
      throw badRequest('A number destination is digits as dialled', [
        {
          field: `/body/destinations/${i}/destination`,
          message: 'expected digits, optionally with leading +',
        },
      ]);
    }
  });
  return list;
}

const positioned = (list: readonly DestinationFields[]) =>
  list.map((d, position) => ({
    position,
    kind: d.kind,
    destination: d.destination,
    ringTimeout: d.ringTimeout ?? null,
  }));

export async function callForwardRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/call-forwards',
    entity: 'call-forwards',
    singular: 'call forward',
    tag: 'call-forwards',
    model: (db) => db.callForward,
    item: CallForward,
    include: { destinations: { orderBy: { position: 'asc' } } },
    create: Type.Object(
      {
        subscriberId: Uuid,
        type: CfType,
        enabled: Type.Optional(Type.Boolean()),
        ringTimeout: Type.Optional(
          Nullable(
            Type.Integer({ minimum: 1, maximum: 600, description: 'For cft: seconds before forwarding' }),
          ),
        ),
        destinations: Destinations,
      },
      { additionalProperties: false },
    ),
    update: Patch({
      enabled: Type.Boolean(),
      ringTimeout: Nullable(Type.Integer({ minimum: 1, maximum: 600 })),
      destinations: Destinations,
    }),
    list: {
      sortable: ['type', 'createdAt'],
      defaultSort: 'createdAt',
      filters: {
        subscriberId: { type: 'string' },
        type: { type: 'enum', values: ['cfu', 'cfb', 'cft', 'cfna'] },
        enabled: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller', 'customer'],
    readScope: scopes.viaSubscriber,
    toCreateData: async (ctx, body) => {
      await requireVisible(
        ctx.tx,
        (db) => db.subscriber,
        scopes.subscriber(ctx.principal),
        body.subscriberId,
        'Subscriber',
        '/body/subscriberId',
      );
      const destinations = positioned(checkDestinations(body.destinations));
      return { data: { ...body, destinations: { create: destinations } } };
    },
    toUpdateData: async (_ctx, body) => {
      if (body.destinations === undefined) return { data: body };
      const destinations = positioned(checkDestinations(body.destinations));
      return { data: { ...body, destinations: { deleteMany: {}, create: destinations } } };
    },
  });
}
