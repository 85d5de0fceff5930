import { NumberingError, validatePhoneNumber } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type CrudContext, delegateOf, registerCrud, requireVisible } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Digits, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';

/**
 * E.164 numbers (DIDs) routed to subscribers, and call forwards. Numbers are assigned by operators and
 * resellers; customers see theirs. Exactly one number of a subscriber is primary (its caller ID).
 */

const NumberParts = {
  countryCode: Digits(1, 3, 'Country code digits, e.g. 43'),
  areaCode: Digits(0, 6, 'Area code digits, may be empty'),
  subscriberNumber: Digits(1, 14, 'Subscriber number digits'),
};

export const PhoneNumber = Type.Object({
  id: Uuid,
  subscriberId: Uuid,
  e164: Type.String({ description: 'Full number with leading +' }),
  ...NumberParts,
  isPrimary: Type.Boolean(),
  ...Timestamps,
});

/** E.164 allows at most 15 digits (ITU-T E.164 section 6). */
export function e164Of(parts: { countryCode: string; areaCode: string; subscriberNumber: string }): string {
  const digits = `${parts.countryCode}${parts.areaCode}${parts.subscriberNumber}`;
  if (digits.length > 15) {
    throw badRequest('An E.164 number has at most 15 digits', [
      { field: '/body/subscriberNumber', message: 'country code + area code + number exceed 15 digits' },
    ]);
  }
  // The numbering package's check (libphonenumber metadata) is the one calls are routed with.
  let checked: ReturnType<typeof validatePhoneNumber>;
  try {
    checked = validatePhoneNumber(`+${digits}`);
  } catch (err) {
    if (!(err instanceof NumberingError)) throw err;
    throw badRequest('Not a valid E.164 number', [{ field: '/body/subscriberNumber', message: err.message }]);
  }
  if (checked.countryCode !== parts.countryCode) {
    throw badRequest('Country code does not match the number', [
      { field: '/body/countryCode', message: `+${digits} belongs to country code +${checked.countryCode}` },
    ]);
  }
  return checked.e164;
}

/** Clears the other primaries first: a partial unique index allows one primary number per subscriber. */
async function makeOnlyPrimary(ctx: CrudContext, subscriberId: string, exceptId?: string): Promise<void> {
  await ctx.tx.phoneNumber.updateMany({
    where: { subscriberId, isPrimary: true, ...(exceptId ? { id: { not: exceptId } } : {}) },
    data: { isPrimary: false },
  });
}

const CfType = Type.Enum(['cfu', 'cfb', 'cft', 'cfna'], {
  description: 'unconditional, on busy, on no answer (timeout), on not available',
});
const Destination = Type.Object(
  {
    kind: Type.Enum(['uri', 'number']),
    destination: Type.String({ minLength: 1, maxLength: 255 }),
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
      kind: Type.Enum(['uri', 'number']),
      destination: Type.String(),
      ringTimeout: Nullable(Type.Integer()),
    }),
  ),
  ...Timestamps,
});

function checkDestinations(
  destinations: unknown,
): { kind: string; destination: string; ringTimeout?: number | null }[] {
  const list = destinations as { kind: string; destination: string; ringTimeout?: number | null }[];
  list.forEach((d, i) => {
    if (d.kind === 'uri' && !/^sips?:[^\s@]+@[^\s]+$/i.test(d.destination)) {
      throw badRequest('A uri destination is a SIP URI', [
        { field: `/body/destinations/${i}/destination`, message: 'expected sip:user@host' },
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

const positioned = (list: { kind: string; destination: string; ringTimeout?: number | null }[]) =>
  list.map((d, position) => ({
    position,
    kind: d.kind,
    destination: d.destination,
    ringTimeout: d.ringTimeout ?? null,
  }));

export async function numberRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/numbers',
    entity: 'numbers',
    singular: 'number',
    tag: 'numbers',
    model: 'phoneNumber',
    item: PhoneNumber,
    create: Type.Object(
      {
        subscriberId: Uuid,
        countryCode: NumberParts.countryCode,
        areaCode: Type.Optional(NumberParts.areaCode),
        subscriberNumber: NumberParts.subscriberNumber,
        isPrimary: Type.Optional(
          Type.Boolean({ description: 'Defaults to true for a subscriber’s first number' }),
        ),
      },
      { additionalProperties: false },
    ),
    update: Patch({ subscriberId: Uuid, isPrimary: Type.Boolean() }),
    list: {
      sortable: ['e164', 'createdAt'],
      defaultSort: 'e164',
      filters: {
        e164: { type: 'string', op: 'contains' },
        subscriberId: { type: 'string' },
        customerId: { type: 'string', field: 'subscriber.customerId' },
        isPrimary: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller'],
    readScope: scopes.viaSubscriber,
    toCreateData: async (ctx, body) => {
      const subscriberId = String(body.subscriberId);
      await requireVisible(
        ctx.tx,
        'subscriber',
        scopes.subscriber(ctx.principal),
        subscriberId,
        'Subscriber',
        '/body/subscriberId',
      );
      const parts = {
        countryCode: String(body.countryCode),
        areaCode: typeof body.areaCode === 'string' ? body.areaCode : '',
        subscriberNumber: String(body.subscriberNumber),
      };
      const existing = await delegateOf(ctx.tx, 'phoneNumber').count({ where: { subscriberId } });
      const isPrimary = typeof body.isPrimary === 'boolean' ? body.isPrimary : existing === 0;
      if (isPrimary) await makeOnlyPrimary(ctx, subscriberId);
      return { data: { ...parts, subscriberId, e164: e164Of(parts), isPrimary } };
    },
    toUpdateData: async (ctx, body, existing) => {
      const subscriberId =
        typeof body.subscriberId === 'string' ? body.subscriberId : String(existing.subscriberId);
      if (body.subscriberId !== undefined) {
        await requireVisible(
          ctx.tx,
          'subscriber',
          scopes.subscriber(ctx.principal),
          subscriberId,
          'Subscriber',
          '/body/subscriberId',
        );
      }
      if (body.isPrimary === true) await makeOnlyPrimary(ctx, subscriberId, String(existing.id));
      return { data: body };
    },
  });

  registerCrud(app, prisma, {
    path: '/call-forwards',
    entity: 'call-forwards',
    singular: 'call forward',
    tag: 'call-forwards',
    model: 'callForward',
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
        'subscriber',
        scopes.subscriber(ctx.principal),
        String(body.subscriberId),
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
