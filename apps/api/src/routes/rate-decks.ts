import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { DECK_COLUMNS, deckToCsv, MAX_DECK_CHARS, parseDeck } from '../billing/deck-csv.ts';
import { loadDeckRates, storeDeck } from '../billing/deck-store.ts';
import { Id, registerCrud, requireParent, requireVisible } from '../crud.ts';
import { conflict } from '../errors.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { ROLES, type Role } from '../types.ts';
import { billingProfileScope, operatorOnly, profileParent } from './billing-profiles.ts';
import type { RouteOptions } from './options.ts';

/**
 * Rate decks: versions of a billing profile's rates, imported from CSV (dry run first), listed, exported
 * and read by zone. A deck is never edited: a price change is a new version with its effective date.
 */

const readers: readonly Role[] = ROLES;

export const RateDeck = Type.Object({
  id: Uuid,
  profileId: Uuid,
  version: Type.Integer(),
  effectiveFrom: Timestamp,
  name: Nullable(Type.String()),
  rowCount: Type.Integer(),
  createdAt: Timestamp,
});

const DeckRowError = Type.Object({
  row: Type.Integer({ description: 'Line of the file, header = 1' }),
  column: Type.String(),
  message: Type.String(),
});

const ImportResult = Type.Object({
  applied: Type.Boolean({ description: 'True when the deck was stored; false for a dry run or errors' }),
  rows: Type.Integer({ description: 'Data rows in the file' }),
  valid: Type.Integer({ description: 'Rows without errors' }),
  zones: Type.Integer({ description: 'Distinct zones of the valid rows' }),
  errors: Type.Array(DeckRowError),
  deck: Type.Optional(RateDeck),
});

const Rate = Type.Object({
  prefix: Type.String(),
  zone: Type.String(),
  setupFee: Type.String({ description: 'Decimal amount in the profile currency' }),
  peakRate: Type.String({ description: 'Per minute' }),
  offPeakRate: Type.String({ description: 'Per minute' }),
  firstInterval: Type.Integer({ description: 'Seconds' }),
  nextInterval: Type.Integer({ description: 'Seconds' }),
  effectiveFrom: Nullable(Timestamp),
  effectiveTo: Nullable(Timestamp),
});

const DeckParams = Type.Object({ profileId: Id, id: Id });

export async function rateDeckRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  registerCrud(app, prisma, {
    path: '/billing-profiles/:profileId/decks',
    entity: 'rate-decks',
    singular: 'rate deck',
    tag: 'billing',
    model: (db) => db.rateDeck,
    item: RateDeck,
    parent: profileParent,
    verbs: ['list', 'read', 'delete'],
    list: {
      sortable: ['version', 'effectiveFrom', 'createdAt'],
      defaultSort: '-version',
      filters: {},
    },
    readRoles: readers,
    writeRoles: operatorOnly,
    readScope: (p) => ({ profile: billingProfileScope(p) }),
  });

  app.post(
    '/billing-profiles/:profileId/decks/import',
    {
      config: { roles: operatorOnly },
      bodyLimit: MAX_DECK_CHARS * 2 + 1024,
      schema: {
        tags: ['billing'],
        operationId: 'importRateDeck',
        summary: 'Import a rate deck from CSV as the profile’s next version (dry run unless apply is true)',
        description: `Columns: ${DECK_COLUMNS.join(', ')}; prefix, zone and peak_rate are required. Rates are per minute, intervals in seconds. A file with any row error is never stored.`,
        params: Type.Object({ profileId: Id }),
        body: Type.Object(
          {
            csv: Type.String({ minLength: 1, maxLength: MAX_DECK_CHARS }),
            effectiveFrom: Type.String({ format: 'date-time', description: 'When this version takes over' }),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            apply: Type.Optional(Type.Boolean({ default: false, description: 'false (default): dry run' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ImportResult },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { profileId } = request.params;
      await requireParent(prisma, profileParent, principal, profileId, true);
      const body = request.body;
      const parsed = parseDeck(body.csv);
      const result = {
        applied: false,
        rows: parsed.rows,
        valid: parsed.rates.length,
        zones: new Set(parsed.rates.map((r) => r.zone)).size,
        errors: parsed.errors,
      };
      if (body.apply !== true || parsed.errors.length > 0) return result;
      if (parsed.rates.length === 0) throw conflict('The deck has no rows');
      const deck = await storeDeck(
        prisma,
        {
          profileId,
          effectiveFrom: new Date(body.effectiveFrom),
          name: body.name ?? null,
          rates: parsed.rates,
        },
        (tx, stored) =>
          writeAudit(tx, request, {
            action: 'import',
            entity: 'rate-decks',
            entityId: stored.id,
            after: stored,
          }),
      );
      return { ...result, applied: true, deck };
    },
  );

  app.get(
    '/billing-profiles/:profileId/decks/:id/rates',
    {
      config: { roles: readers },
      schema: {
        tags: ['billing'],
        operationId: 'listDeckRates',
        summary: 'The rates of a deck version: JSON, or the whole deck as CSV (re-importable)',
        params: DeckParams,
        querystring: Type.Object({
          zone: Type.Optional(Type.String({ maxLength: 100 })),
          prefix: Type.Optional(
            Type.String({ pattern: '^[0-9]{0,32}$', description: 'Rates whose prefix starts with this' }),
          ),
          format: Type.Optional(Type.Enum(['json', 'csv'])),
          page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
          perPage: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
        }),
        response: {
          200: {
            description: 'A page of rates, or the deck as CSV',
            content: {
              'application/json': { schema: Type.Object({ items: Type.Array(Rate), total: Type.Integer() }) },
              'text/csv': { schema: Type.String() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { profileId, id } = request.params;
      await requireParent(prisma, profileParent, principal, profileId, false);
      await requireVisible(prisma, (db) => db.rateDeck, { profileId }, id, 'Rate deck');
      const q = request.query;
      if (q.format === 'csv')
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="deck-${id}.csv"`)
          .send(deckToCsv(await loadDeckRates(prisma, id)));
      const where = {
        deckId: id,
        ...(q.zone ? { zone: q.zone } : {}),
        ...(q.prefix ? { prefix: { startsWith: q.prefix } } : {}),
      };
      const perPage = q.perPage ?? 100;
      const [rows, total] = await Promise.all([
        prisma.rate.findMany({
          where,
          orderBy: { prefix: 'asc' },
          skip: ((q.page ?? 1) - 1) * perPage,
          take: perPage,
        }),
        prisma.rate.count({ where }),
      ]);
      const items = rows.map((r) => ({
        prefix: r.prefix,
        zone: r.zone,
        setupFee: r.setupFee.toFixed(6),
        peakRate: r.peakRate.toFixed(6),
        offPeakRate: r.offPeakRate.toFixed(6),
        firstInterval: r.firstInterval,
        nextInterval: r.nextInterval,
        effectiveFrom: r.effectiveFrom,
        effectiveTo: r.effectiveTo,
      }));
      return reply.type('application/json').send({ items, total });
    },
  );

  app.get(
    '/billing-profiles/:profileId/decks/:id/zones',
    {
      config: { roles: readers },
      schema: {
        tags: ['billing'],
        operationId: 'listDeckZones',
        summary: 'The zones of a deck version with their prefix count and rate range',
        params: DeckParams,
        response: {
          200: Type.Array(
            Type.Object({
              zone: Type.String(),
              prefixes: Type.Integer(),
              minPeakRate: Type.String(),
              maxPeakRate: Type.String(),
              minOffPeakRate: Type.String(),
              maxOffPeakRate: Type.String(),
            }),
          ),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { profileId, id } = request.params;
      await requireParent(prisma, profileParent, principal, profileId, false);
      await requireVisible(prisma, (db) => db.rateDeck, { profileId }, id, 'Rate deck');
      const groups = await prisma.rate.groupBy({
        by: ['zone'],
        where: { deckId: id },
        _count: { _all: true },
        _min: { peakRate: true, offPeakRate: true },
        _max: { peakRate: true, offPeakRate: true },
        orderBy: { zone: 'asc' },
      });
      const fixed = (d: { toFixed(n: number): string } | null) => d?.toFixed(6) ?? '0.000000';
      return groups.map((g) => ({
        zone: g.zone,
        prefixes: g._count._all,
        minPeakRate: fixed(g._min.peakRate),
        maxPeakRate: fixed(g._max.peakRate),
        minOffPeakRate: fixed(g._min.offPeakRate),
        maxOffPeakRate: fixed(g._max.offPeakRate),
      }));
    },
  );
}
