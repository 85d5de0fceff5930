import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { parseTaxRate } from '../billing/tax.ts';
import { badRequest, notFound } from '../errors.ts';
import { Uuid } from '../schemas.ts';
import type { Principal } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * The letterhead of invoices and credit notes, with the issuer's tax id and default tax rate: the operator's (for customers it contracts directly, and the fallback)
 * and one per reseller, with a logo uploaded as base64 PNG or JPEG. A reseller edits its own; the
 * operator any (`?resellerId=`, none: its own).
 */

const MAX_LOGO_BYTES = 512 * 1024;

const TemplateBody = Type.Object(
  {
    companyName: Type.String({ minLength: 1, maxLength: 200 }),
    address: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    footer: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    logo: Type.Optional(
      Type.Union([
        Type.String({
          maxLength: Math.ceil((MAX_LOGO_BYTES * 4) / 3) + 4,
          description: 'PNG or JPEG, base64',
        }),
        Type.Null(),
      ]),
    ),
    taxId: Type.Optional(
      Type.Union([
        Type.String({ minLength: 1, maxLength: 50, description: 'The issuer tax id (VAT number)' }),
        Type.Null(),
      ]),
    ),
    defaultTaxRate: Type.Optional(
      Type.Union([
        Type.String({ description: "Tax percent of the issuer's customers without their own, e.g. 20.00" }),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);

const Template = Type.Object({
  resellerId: Type.Union([Uuid, Type.Null()]),
  companyName: Type.String(),
  address: Type.Union([Type.String(), Type.Null()]),
  footer: Type.Union([Type.String(), Type.Null()]),
  logoType: Type.Union([Type.String(), Type.Null()]),
  taxId: Type.Union([Type.String(), Type.Null()]),
  defaultTaxRate: Type.Union([Type.String(), Type.Null()]),
});

const templateItem = <Row extends { defaultTaxRate: { toFixed(n: number): string } | null }>(
  row: Row,
  resellerId: string | null,
) => ({ ...row, resellerId, defaultTaxRate: row.defaultTaxRate?.toFixed(2) ?? null });

/** The image type from its first bytes; undefined when neither PNG nor JPEG. */
export function imageType(bytes: Uint8Array): 'image/png' | 'image/jpeg' | undefined {
  if (bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'image/png';
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

function ownerOf(p: Principal, requested: string | undefined): string | null {
  if (p.role === 'reseller') return p.resellerId;
  return requested ?? null;
}

export async function invoiceTemplateRoutes(
  fastify: FastifyInstance,
  { prisma }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const query = Type.Object({ resellerId: Type.Optional(Uuid) }, { additionalProperties: false });
  const roles = ['operator', 'reseller'] as const;

  app.get(
    '/invoice-template',
    {
      config: { roles },
      schema: {
        tags: ['billing'],
        operationId: 'getInvoiceTemplate',
        summary: 'The invoice letterhead',
        querystring: query,
        response: { 200: Template },
      },
    },
    async (request) => {
      const resellerId = ownerOf(principalOf(request), request.query.resellerId);
      const row = await prisma.invoiceTemplate.findFirst({ where: { resellerId } });
      if (!row) throw notFound('Invoice template');
      return templateItem(row, resellerId);
    },
  );

  app.put(
    '/invoice-template',
    {
      config: { roles },
      schema: {
        tags: ['billing'],
        operationId: 'putInvoiceTemplate',
        summary: 'Set the invoice letterhead (and logo)',
        querystring: query,
        body: TemplateBody,
        response: { 200: Template },
      },
    },
    async (request) => {
      const resellerId = ownerOf(principalOf(request), request.query.resellerId);
      const body = request.body;
      let logo: Uint8Array<ArrayBuffer> | null | undefined;
      let logoType: string | null | undefined;
      if (body.logo === null) {
        logo = null;
        logoType = null;
      } else if (body.logo !== undefined) {
        const bytes = Buffer.from(body.logo, 'base64');
        logoType = imageType(bytes);
        if (!logoType || bytes.length > MAX_LOGO_BYTES)
          throw badRequest('The logo must be a PNG or JPEG of at most 512 KiB', [
            { field: '/body/logo', message: 'not a PNG or JPEG of at most 512 KiB' },
          ]);
        logo = new Uint8Array(bytes);
      }
      if (typeof body.defaultTaxRate === 'string' && parseTaxRate(body.defaultTaxRate) === undefined)
        throw badRequest('Not a tax rate', [
          { field: '/body/defaultTaxRate', message: 'not a percent from 0 to 100 with at most two decimals' },
        ]);
      if (resellerId && !(await prisma.reseller.findUnique({ where: { id: resellerId } })))
        throw badRequest('No such reseller', [{ field: '/querystring/resellerId', message: 'not found' }]);
      const data = {
        companyName: body.companyName,
        address: body.address ?? null,
        footer: body.footer ?? null,
        ...(logo !== undefined ? { logo, logoType } : {}),
        ...(body.taxId !== undefined ? { taxId: body.taxId } : {}),
        ...(body.defaultTaxRate !== undefined ? { defaultTaxRate: body.defaultTaxRate } : {}),
      };
      return prisma.$transaction(async (tx) => {
        const existing = await tx.invoiceTemplate.findFirst({ where: { resellerId }, select: { id: true } });
        const row = existing
          ? await tx.invoiceTemplate.update({ where: { id: existing.id }, data })
          : await tx.invoiceTemplate.create({ data: { ...data, resellerId } });
        await writeAudit(tx, request, {
          action: existing ? 'update' : 'create',
          entity: 'invoice_templates',
          entityId: row.id,
          after: { resellerId, companyName: row.companyName, logoType: row.logoType },
        });
        return templateItem(row, resellerId);
      });
    },
  );
}
