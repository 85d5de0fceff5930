import type { PrismaClient } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { isTimeZone } from '../billing/peak.ts';
import { type CrudContext, including, type Loaded, type ParentSpec, registerCrud } from '../crud.ts';
import { badRequest, notFoundField } from '../errors.ts';
import { Description, Name, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import type { Where } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Billing profiles (docs/billing.md): sell profiles price calls for customers and resellers, cost
 * profiles for peering groups (carriers). The operator writes them; a reseller reads the profiles linked
 * to it or to its customers, a customer the one linked to it.
 */

const PeakTime = Type.Object(
  {
    weekday: Nullable(
      Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday, 1 = Monday; null: every day' }),
    ),
    startMinute: Type.Integer({
      minimum: 0,
      maximum: 1439,
      description: 'Local minutes after midnight, inclusive',
    }),
    endMinute: Type.Integer({
      minimum: 1,
      maximum: 1440,
      description: 'Local minutes after midnight, exclusive',
    }),
  },
  { additionalProperties: false },
);
const ProfileProps = {
  name: Name,
  kind: Type.Enum(['sell', 'cost'], { description: 'sell: customers and resellers; cost: peering groups' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' }),
  timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of the peak times' }),
  description: Nullable(Description),
  peakTimes: Type.Array(PeakTime, {
    maxItems: 100,
    description: 'Peak periods; a call starting outside all of them is off-peak. Empty: always peak.',
  }),
};
export const BillingProfile = Type.Object({ id: Uuid, ...ProfileProps, ...Timestamps });

type PeakTimeBody = { weekday: number | null; startMinute: number; endMinute: number };

const profileInclude = {
  peakTimes: {
    select: { weekday: true, startMinute: true, endMinute: true },
    orderBy: [{ weekday: 'asc' }, { startMinute: 'asc' }],
  },
} as const;
const profileModel = including((db) => db.billingProfile, profileInclude);
type ProfileRow = Loaded<PrismaClient['billingProfile'], typeof profileInclude>;

export const operatorOnly = ['operator'] as const;

/** The profiles a principal may read: all for the operator, else those linked to it (or its customers). */
export function billingProfileScope(p: Principal): Where {
  if (p.role === 'operator') return {};
  if (p.role === 'reseller')
    return {
      OR: [
        { resellers: { some: { id: p.resellerId } } },
        { customers: { some: { resellerId: p.resellerId } } },
      ],
    };
  return { customers: { some: { id: p.customerId } } };
}

export const profileParent: ParentSpec = {
  param: 'profileId',
  field: 'profileId',
  model: (db) => db.billingProfile,
  label: 'Billing profile',
  readScope: billingProfileScope,
  writeScope: () => ({}),
};

function checkBody(body: { timeZone?: string; peakTimes?: PeakTimeBody[] }): void {
  if (body.timeZone !== undefined && !isTimeZone(body.timeZone))
    throw badRequest(`Unknown time zone ${body.timeZone}`, [
      { field: '/body/timeZone', message: 'not an IANA time zone' },
    ]);
  body.peakTimes?.forEach((t, i) => {
    if (t.endMinute <= t.startMinute)
      throw badRequest('A peak period must end after it starts', [
        { field: `/body/peakTimes/${i}/endMinute`, message: 'must be greater than startMinute' },
      ]);
  });
}

/**
 * Checks a profile named in a customer, reseller or peering group body: it exists and is of the kind
 * that side uses (`sell` for customers and resellers, `cost` for peering groups).
 */
export async function checkBillingProfile(
  ctx: CrudContext,
  id: string | null | undefined,
  kind: 'sell' | 'cost',
  field: string,
): Promise<void> {
  if (id === undefined || id === null) return;
  const profile = await ctx.tx.billingProfile.findUnique({ where: { id }, select: { kind: true } });
  if (profile === null) throw notFoundField('Billing profile', field);
  if (profile.kind !== kind)
    throw badRequest(`A ${profile.kind} profile cannot be used here`, [
      { field, message: `must be a ${kind} profile` },
    ]);
}

export async function billingProfileRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/billing-profiles',
    entity: 'billing-profiles',
    singular: 'billing profile',
    tag: 'billing',
    ...profileModel,
    item: BillingProfile,
    create: Type.Object(
      {
        name: Name,
        kind: ProfileProps.kind,
        currency: ProfileProps.currency,
        timeZone: Type.Optional(ProfileProps.timeZone),
        description: Type.Optional(ProfileProps.description),
        peakTimes: Type.Optional(ProfileProps.peakTimes),
      },
      { additionalProperties: false },
    ),
    // The kind and currency stay: the decks' amounts and the links were made for them.
    update: Patch({
      name: Name,
      timeZone: ProfileProps.timeZone,
      description: ProfileProps.description,
      peakTimes: ProfileProps.peakTimes,
    }),
    list: {
      sortable: ['name', 'kind', 'createdAt'],
      defaultSort: 'name',
      filters: { name: { type: 'string', op: 'contains' }, kind: { type: 'enum', values: ['sell', 'cost'] } },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: operatorOnly,
    readScope: billingProfileScope,
    dependants: [{ entity: 'rate-decks', model: (db) => db.rateDeck, where: (id) => ({ profileId: id }) }],
    toItem: (row: ProfileRow) => row,
    toCreateData: async (_ctx, body) => {
      checkBody(body);
      const { peakTimes, ...rest } = body;
      return { data: { ...rest, peakTimes: { create: peakTimes ?? [] } } };
    },
    toUpdateData: async (_ctx, body) => {
      checkBody(body);
      const { peakTimes, ...rest } = body;
      return {
        data: { ...rest, ...(peakTimes ? { peakTimes: { deleteMany: {}, create: peakTimes } } : {}) },
      };
    },
  });
}
