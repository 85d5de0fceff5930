import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { MAX_IMPORT_CHARS } from '../bulk/csv.ts';
import { applyNumbers, exportNumbers, planNumbers } from '../bulk/numbers.ts';
import { ImportBody, ImportReport, reportOf } from '../bulk/report.ts';
import { applySubscribers, exportSubscribers, planSubscribers } from '../bulk/subscribers.ts';
import type { Role } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Bulk export and import of subscribers and numbers as CSV, always within the caller's tenant: an export
 * holds only what the caller may list, an import only touches what the caller may change. An import is a
 * dry run unless `apply` is true, and applies all rows or none (one transaction, refused if any row has an
 * error).
 */

const IMPORT_TIMEOUT_MS = 120_000;
const Csv = Type.String({ description: 'CSV with a header line (RFC 4180)' });

interface Resource {
  name: 'subscribers' | 'numbers';
  writeRoles: readonly Role[];
  export: typeof exportSubscribers;
  plan: typeof planSubscribers | typeof planNumbers;
  apply(
    tx: Parameters<typeof applySubscribers>[0],
    request: FastifyRequest,
    planned: Awaited<ReturnType<Resource['plan']>>['planned'],
  ): Promise<void>;
}

const RESOURCES: readonly Resource[] = [
  {
    name: 'subscribers',
    writeRoles: ['operator', 'reseller', 'customer'],
    export: exportSubscribers,
    plan: planSubscribers,
    apply: applySubscribers,
  },
  {
    name: 'numbers',
    writeRoles: ['operator', 'reseller'],
    export: exportNumbers,
    plan: planNumbers,
    apply: applyNumbers,
  },
];

export async function bulkRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  for (const res of RESOURCES) {
    const title = res.name[0]!.toUpperCase() + res.name.slice(1);
    r.get(
      `/bulk/${res.name}`,
      {
        config: { roles: ['operator', 'reseller', 'customer'] },
        schema: {
          tags: ['bulk'],
          operationId: `export${title}`,
          summary: `Export your ${res.name} as CSV`,
          response: { 200: { description: 'CSV file', content: { 'text/csv': { schema: Csv } } } },
        },
      },
      async (request: FastifyRequest, reply: FastifyReply) => {
        const csv = await res.export(prisma, principalOf(request));
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${res.name}.csv"`)
          .send(csv);
      },
    );

    r.post(
      `/bulk/${res.name}`,
      {
        // JSON-escaped CSV of the largest allowed import, with room for the envelope.
        bodyLimit: MAX_IMPORT_CHARS * 2 + 1024,
        config: { roles: res.writeRoles, creates: true },
        schema: {
          tags: ['bulk'],
          operationId: `import${title}`,
          summary: `Import ${res.name} from CSV (dry run unless apply is true)`,
          body: ImportBody(MAX_IMPORT_CHARS),
          response: { 200: ImportReport },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const { csv, apply } = request.body;
        const dryRun = await res.plan(prisma, principal, csv);
        if (apply !== true || dryRun.errors.length > 0) return reportOf(dryRun.planned, dryRun.errors, false);
        // Planned again inside the transaction, so what is written matches the data it was checked against.
        return prisma.$transaction(
          async (tx) => {
            const { planned, errors } = await res.plan(tx, principal, csv);
            if (errors.length > 0) return reportOf(planned, errors, false);
            await res.apply(tx, request, planned);
            return reportOf(planned, errors, true);
          },
          { timeout: IMPORT_TIMEOUT_MS },
        );
      },
    );
  }
}
