import { NumberingError, validateDialPlanSettings } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { CodecPolicyProps, checkCodecPolicy } from '../codec-policy.ts';
import { type CrudContext, registerCrud, requireVisible } from '../crud.ts';
import { huntGroupTree, subscriberTree } from '../dependants.ts';
import { badRequest } from '../errors.ts';
import { HostName, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';
import { owningReseller } from './resellers.ts';
import { checkRuleSet } from './rewrite-rule-sets.ts';

/** SIP domains: the realm of their subscribers and their dialling settings. */

const Prefix = (max: number) => Nullable(Type.String({ pattern: `^[0-9]{1,${max}}$` }));
const DomainProps = {
  name: HostName,
  selfSignup: Type.Boolean({ description: 'Whether the self-care portal lets new customers sign up here' }),
  countryCode: Prefix(3),
  nationalPrefix: Prefix(4),
  internationalPrefix: Prefix(5),
  areaCode: Prefix(6),
  rewriteRuleSetId: Nullable(Uuid),
  transcodeCodecs: Type.Array(Type.Enum(['PCMU', 'PCMA', 'G722']), {
    uniqueItems: true,
    maxItems: 3,
    description:
      "Codecs the media relay adds and transcodes to when a browser of this domain calls a SIP phone or gateway and its offer lacks them (Opus to G.711); empty: browsers' offers are relayed with their own codecs only",
  }),
  /** Codec policy towards carriers on this domain's outbound calls, unless the peer policy sets its own. */
  ...CodecPolicyProps,
  voicemailAccessCode: Nullable(
    Type.String({
      pattern: '^[*#]?[0-9*#]{1,11}$',
      description:
        "What this domain's subscribers dial to reach their own voicemail box (digits, * and #, e.g. *98); null: the platform's (*98)",
    }),
  ),
  upstreamGatewayId: Nullable(
    Type.String({
      format: 'uuid',
      description:
        "The peer gateway of an existing PBX this domain's phones register to and call through (docs/sbc.md, 'Fronting a PBX'); null: the platform is the domain's registrar. Operators only.",
    }),
  ),
};
export const Domain = Type.Object({ id: Uuid, resellerId: Nullable(Uuid), ...DomainProps, ...Timestamps });

export async function domainRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/domains',
    entity: 'domains',
    singular: 'domain',
    tag: 'tenants',
    model: (db) => db.domain,
    item: Domain,
    create: Type.Object(
      {
        name: HostName,
        resellerId: Type.Optional(Nullable(Uuid)),
        selfSignup: Type.Optional(DomainProps.selfSignup),
        countryCode: Type.Optional(DomainProps.countryCode),
        nationalPrefix: Type.Optional(DomainProps.nationalPrefix),
        internationalPrefix: Type.Optional(DomainProps.internationalPrefix),
        areaCode: Type.Optional(DomainProps.areaCode),
        rewriteRuleSetId: Type.Optional(DomainProps.rewriteRuleSetId),
        transcodeCodecs: Type.Optional(DomainProps.transcodeCodecs),
        ...(Object.fromEntries(Object.entries(CodecPolicyProps).map(([k, v]) => [k, Type.Optional(v)])) as {
          [K in keyof typeof CodecPolicyProps]: ReturnType<
            typeof Type.Optional<(typeof CodecPolicyProps)[K]>
          >;
        }),
        upstreamGatewayId: Type.Optional(DomainProps.upstreamGatewayId),
        voicemailAccessCode: Type.Optional(DomainProps.voicemailAccessCode),
      },
      { additionalProperties: false },
    ),
    // Renaming a domain would silently invalidate every subscriber's HA1 (the realm is the domain name).
    update: Patch({
      selfSignup: DomainProps.selfSignup,
      countryCode: DomainProps.countryCode,
      nationalPrefix: DomainProps.nationalPrefix,
      internationalPrefix: DomainProps.internationalPrefix,
      areaCode: DomainProps.areaCode,
      rewriteRuleSetId: DomainProps.rewriteRuleSetId,
      transcodeCodecs: DomainProps.transcodeCodecs,
      ...CodecPolicyProps,
      upstreamGatewayId: DomainProps.upstreamGatewayId,
      voicemailAccessCode: DomainProps.voicemailAccessCode,
    }),
    list: {
      sortable: ['name', 'createdAt'],
      defaultSort: 'name',
      filters: {
        name: { type: 'string', op: 'contains' },
        resellerId: { type: 'string' },
        selfSignup: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller'],
    readScope: scopes.domain,
    writeScope: (p) => scopes.domainForNewSubscribers(p),
    // Peer gateways are the operator's: only an operator points a domain at one.
    fieldRoles: { upstreamGatewayId: ['operator'] },
    dependants: [...huntGroupTree((id) => ({ domainId: id })), ...subscriberTree((id) => ({ domainId: id }))],
    toCreateData: async (ctx, body) => {
      const resellerId = await owningReseller(ctx, body.resellerId);
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      await checkUpstreamGateway(ctx, body.upstreamGatewayId);
      checkDialPlan(body);
      checkCodecPolicy(body);
      return { data: { ...body, name: body.name.toLowerCase(), resellerId: resellerId ?? null } };
    },
    toUpdateData: async (ctx, body, existing) => {
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      checkCodecPolicy(body, existing as { codecAllow?: string[]; codecStrip?: string[] });
      await checkUpstreamGateway(ctx, body.upstreamGatewayId);
      return { data: body };
    },
  });
}

/** The upstream PBX must be an existing peer gateway (404 naming the field otherwise). */
async function checkUpstreamGateway(ctx: CrudContext, id: string | null | undefined): Promise<void> {
  if (id === undefined || id === null) return;
  await requireVisible(ctx.tx, (db) => db.peerGateway, {}, id, 'Peer gateway', '/body/upstreamGatewayId');
}

/** Dialling settings are checked when provisioned, never at call time (numbering's own rules). */
function checkDialPlan(body: {
  countryCode?: string | null;
  nationalPrefix?: string | null;
  internationalPrefix?: string | null;
  areaCode?: string | null;
}): void {
  try {
    validateDialPlanSettings({
      countryCode: body.countryCode ?? null,
      nationalPrefix: body.nationalPrefix ?? null,
      internationalPrefix: body.internationalPrefix ?? null,
      areaCode: body.areaCode ?? null,
    });
  } catch (err) {
    if (!(err instanceof NumberingError)) throw err;
    // The message names the setting; point the client at that field.
    const field =
      [
        ['international prefix', 'internationalPrefix'],
        ['national prefix', 'nationalPrefix'],
        ['area code', 'areaCode'],
      ].find(([words]) => err.message.includes(words!))?.[1] ?? 'countryCode';
    throw badRequest('Invalid dialling settings', [{ field: `/body/${field}`, message: err.message }]);
  }
}
