import { NumberingError, validatePhoneNumber } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type CrudContext, registerCrud, requireVisible } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Digits, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';

/**
 * E.164 numbers (DIDs) routed to subscribers, to hunt groups or to auto-attendants (exactly one of the three).
 * Numbers are assigned by operators and resellers; customers see theirs. Exactly one number of a subscriber is
 * primary (its caller ID); a hunt group's or an attendant's numbers are never primary.
 */

const NumberParts = {
  countryCode: Digits(1, 3, 'Country code digits, e.g. 43'),
  areaCode: Digits(0, 6, 'Area code digits, may be empty'),
  subscriberNumber: Digits(1, 14, 'Subscriber number digits'),
};

export const PhoneNumber = Type.Object({
  id: Uuid,
  subscriberId: Type.Union([Uuid, Type.Null()], { description: 'The subscriber the number rings' }),
  huntGroupId: Type.Union([Uuid, Type.Null()], { description: 'The hunt group the number rings' }),
  autoAttendantId: Type.Union([Uuid, Type.Null()], {
    description: 'The auto-attendant that answers the number',
  }),
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

function oneTarget(field: string): Error {
  return badRequest('A number rings either a subscriber, a hunt group or an auto-attendant', [
    { field, message: 'give exactly one of subscriberId, huntGroupId and autoAttendantId' },
  ]);
}

function groupNotPrimary(): Error {
  return badRequest('Only a subscriber’s number can be primary', [
    { field: '/body/isPrimary', message: 'only a subscriber’s number is its caller ID' },
  ]);
}

interface Targets {
  subscriberId?: string | undefined;
  huntGroupId?: string | undefined;
  autoAttendantId?: string | undefined;
}

/**
 * The hunt group or auto-attendant the body points the number at, checked to be one the caller may manage
 * (a customer's own, a reseller's customers'; another's: 400 naming the field); undefined when the body
 * names neither. More than one target: 400.
 */
async function pbxTarget(
  ctx: CrudContext,
  body: Targets,
): Promise<
  { huntGroupId: string; autoAttendantId: null } | { huntGroupId: null; autoAttendantId: string } | undefined
> {
  const given = (['subscriberId', 'huntGroupId', 'autoAttendantId'] as const).filter(
    (k) => body[k] !== undefined,
  );
  if (given.length > 1) throw oneTarget(`/body/${given[1]}`);
  const scope = scopes.subscriber(ctx.principal);
  if (body.huntGroupId !== undefined) {
    await requireVisible(
      ctx.tx,
      (db) => db.huntGroup,
      scope,
      body.huntGroupId,
      'Hunt group',
      '/body/huntGroupId',
    );
    return { huntGroupId: body.huntGroupId, autoAttendantId: null };
  }
  if (body.autoAttendantId !== undefined) {
    await requireVisible(
      ctx.tx,
      (db) => db.autoAttendant,
      scope,
      body.autoAttendantId,
      'Auto-attendant',
      '/body/autoAttendantId',
    );
    return { huntGroupId: null, autoAttendantId: body.autoAttendantId };
  }
  return undefined;
}

export async function numberRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/numbers',
    entity: 'numbers',
    singular: 'number',
    tag: 'numbers',
    model: (db) => db.phoneNumber,
    item: PhoneNumber,
    create: Type.Object(
      {
        subscriberId: Type.Optional(Uuid),
        huntGroupId: Type.Optional(Uuid),
        autoAttendantId: Type.Optional(Uuid),
        countryCode: NumberParts.countryCode,
        areaCode: Type.Optional(NumberParts.areaCode),
        subscriberNumber: NumberParts.subscriberNumber,
        isPrimary: Type.Optional(
          Type.Boolean({ description: 'Defaults to true for a subscriber’s first number' }),
        ),
      },
      { additionalProperties: false },
    ),
    update: Patch({
      subscriberId: Uuid,
      huntGroupId: Uuid,
      autoAttendantId: Uuid,
      isPrimary: Type.Boolean(),
    }),
    list: {
      sortable: ['e164', 'createdAt'],
      defaultSort: 'e164',
      filters: {
        e164: { type: 'string', op: 'contains' },
        subscriberId: { type: 'string' },
        huntGroupId: { type: 'string' },
        autoAttendantId: { type: 'string' },
        customerId: { type: 'string', field: 'subscriber.customerId' },
        isPrimary: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller'],
    readScope: scopes.number,
    toCreateData: async (ctx, body) => {
      const { subscriberId } = body;
      const parts = {
        countryCode: body.countryCode,
        areaCode: body.areaCode ?? '',
        subscriberNumber: body.subscriberNumber,
      };
      const pbx = await pbxTarget(ctx, body);
      if (pbx) {
        if (body.isPrimary === true) throw groupNotPrimary();
        return { data: { ...parts, ...pbx, e164: e164Of(parts), isPrimary: false } };
      }
      if (subscriberId === undefined) throw oneTarget('/body/subscriberId');
      await requireVisible(
        ctx.tx,
        (db) => db.subscriber,
        scopes.subscriber(ctx.principal),
        subscriberId,
        'Subscriber',
        '/body/subscriberId',
      );
      const existing = await ctx.tx.phoneNumber.count({ where: { subscriberId } });
      const isPrimary = body.isPrimary ?? existing === 0;
      if (isPrimary) await makeOnlyPrimary(ctx, subscriberId);
      return { data: { ...parts, subscriberId, e164: e164Of(parts), isPrimary } };
    },
    toUpdateData: async (ctx, body, existing) => {
      const pbx = await pbxTarget(ctx, body);
      if (pbx) {
        if (body.isPrimary === true) throw groupNotPrimary();
        return { data: { ...pbx, subscriberId: null, isPrimary: false } };
      }
      const subscriberId = body.subscriberId ?? existing.subscriberId;
      if (subscriberId === null) {
        if (body.isPrimary === true) throw groupNotPrimary();
        return { data: body };
      }
      if (body.subscriberId !== undefined) {
        await requireVisible(
          ctx.tx,
          (db) => db.subscriber,
          scopes.subscriber(ctx.principal),
          subscriberId,
          'Subscriber',
          '/body/subscriberId',
        );
      }
      if (body.isPrimary === true) await makeOnlyPrimary(ctx, subscriberId, existing.id);
      return {
        data: body.subscriberId !== undefined ? { ...body, huntGroupId: null, autoAttendantId: null } : body,
      };
    },
  });
}
