import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Who may write which field: every PATCH route of the API × every role × every field of its body. A role the
 * route refuses gets 403; a role the route allows but a field does not gets 403 problem+json naming the field,
 * and the record is left unchanged. The table also has to cover every field the OpenAPI document lists, so a
 * new field cannot be added without deciding who may write it.
 */

let world: World;
let ids: World['ids'];
let subscriberC: string;
/** A hunt group of tenant A that numbers are pointed at. */
let huntGroupA: string;
/** An auto-attendant of tenant A that numbers are pointed at. */
let attendantA: string;
/** A gateway and a header rule set that bindings and peer policies are moved to. */
let gatewayForPolicies: string;
let spareRuleSet: string;
/** A sell and a cost billing profile that customers, resellers and peering groups are linked to. */
let sellProfile: string;
let costProfile: string;
beforeAll(async () => {
  world = await createWorld('hardening_policy');
  ids = world.ids;
  gatewayForPolicies = (
    await op('POST', `/peering-groups/${ids.pg}/gateways`, { name: 'policy-target', host: 'gw.example.net' })
  ).json().id;
  spareRuleSet = (await op('POST', '/header-rule-sets', { name: 'spare headers' })).json().id;
  sellProfile = (
    await op('POST', '/billing-profiles', { name: 'retail', kind: 'sell', currency: 'EUR' })
  ).json().id;
  costProfile = (
    await op('POST', '/billing-profiles', { name: 'carrier', kind: 'cost', currency: 'EUR' })
  ).json().id;
  subscriberC = (
    await op('POST', '/subscribers', { customerId: ids.cA, domainId: ids.dA, username: 'carol' })
  ).json().id;
  huntGroupA = (
    await op('POST', '/hunt-groups', {
      customerId: ids.cA,
      domainId: ids.dA,
      username: 'policy-hunt',
      name: 'Policy',
      members: [ids.sA],
    })
  ).json().id;
  attendantA = (
    await op('POST', '/auto-attendants', {
      customerId: ids.cA,
      domainId: ids.dA,
      username: 'policy-attendant',
      name: 'Policy',
      menu: [],
    })
  ).json().id;
});
afterAll(async () => {
  await world?.close();
});

type Role = 'operator' | 'reseller' | 'customer';
const ACTORS: Record<Role, Actor> = { operator: 'operator', reseller: 'resellerA', customer: 'customerA' };
const ALL: Role[] = ['operator', 'reseller', 'customer'];
const PROVIDER: Role[] = ['operator', 'reseller'];
const OPERATOR: Role[] = ['operator'];

const call = (actor: Actor, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${url}`, body);
const op = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  call('operator', method, url, body);

let seq = 0;
const unique = (s: string) => `${s}${++seq}`;

async function created(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await op('POST', url, body);
  expect(res.statusCode, res.body).toBe(201);
  return `${url}/${res.json().id}`;
}

interface FieldCase {
  /** The body sent; it names the field under test and any field the change needs with it. */
  body: () => Record<string, unknown>;
  /** Roles that may write it; default: every role the route lets write. */
  roles?: Role[];
  /** Not readable back (write-only secrets). */
  writeOnly?: boolean;
}

interface PatchRoute {
  /** The OpenAPI path of the PATCH operation. */
  path: string;
  /** Roles the route lets write at all. */
  writeRoles: Role[];
  /** A fresh record in tenant A, created by the operator; returns its URL. */
  fresh: () => Promise<string>;
  fields: Record<string, FieldCase>;
  /** The written fields as the answer shows them; default: the answer is the record itself. */
  shown?: (answer: unknown) => Record<string, unknown>;
}

const ROUTES: PatchRoute[] = [
  {
    path: '/api/v1/resellers/{id}',
    writeRoles: OPERATOR,
    fresh: () => created('/resellers', { name: unique('Reseller ') }),
    fields: {
      name: { body: () => ({ name: unique('Renamed ') }) },
      status: { body: () => ({ status: 'locked' }) },
      billingProfileId: { body: () => ({ billingProfileId: sellProfile }) },
    },
  },
  {
    path: '/api/v1/customers/{id}',
    writeRoles: PROVIDER,
    fresh: () => created('/customers', { name: unique('Customer '), resellerId: ids.rA }),
    fields: {
      name: { body: () => ({ name: unique('Renamed ') }) },
      externalId: { body: () => ({ externalId: 'crm-9' }) },
      status: { body: () => ({ status: 'locked' }) },
      maxConcurrentCalls: { body: () => ({ maxConcurrentCalls: 5 }) },
      maxSubscribers: { body: () => ({ maxSubscribers: 50 }) },
      maxCallDuration: { body: () => ({ maxCallDuration: 3600 }) },
      maxCallsPerSecond: { body: () => ({ maxCallsPerSecond: 5 }) },
      resellerId: { body: () => ({ resellerId: ids.rB }), roles: OPERATOR },
      billingProfileId: { body: () => ({ billingProfileId: sellProfile }), roles: OPERATOR },
    },
  },
  {
    path: '/api/v1/domains/{id}',
    writeRoles: PROVIDER,
    fresh: () => created('/domains', { name: `${unique('policy')}.example.org`, resellerId: ids.rA }),
    fields: {
      selfSignup: { body: () => ({ selfSignup: true }) },
      countryCode: { body: () => ({ countryCode: '43' }) },
      nationalPrefix: { body: () => ({ nationalPrefix: '0' }) },
      internationalPrefix: { body: () => ({ internationalPrefix: '00' }) },
      areaCode: { body: () => ({ areaCode: '1' }) },
      rewriteRuleSetId: { body: () => ({ rewriteRuleSetId: ids.rsA }) },
      transcodeCodecs: { body: () => ({ transcodeCodecs: ['PCMA'] }) },
      voicemailAccessCode: { body: () => ({ voicemailAccessCode: '*555' }) },
      codecAllow: { body: () => ({ codecAllow: ['PCMA', 'PCMU'] }) },
      codecStrip: { body: () => ({ codecStrip: ['G729'] }) },
      codecMask: { body: () => ({ codecMask: ['G722'] }) },
      codecTranscode: { body: () => ({ codecTranscode: ['PCMA'] }) },
      ptime: { body: () => ({ ptime: 30 }) },
      dtmfEvents: { body: () => ({ dtmfEvents: true }) },
      upstreamGatewayId: { body: () => ({ upstreamGatewayId: gatewayForPolicies }), roles: OPERATOR },
    },
  },
  {
    path: '/api/v1/subscribers/{id}',
    writeRoles: ALL,
    fresh: () => created('/subscribers', { customerId: ids.cA, domainId: ids.dA, username: unique('sub') }),
    fields: {
      username: { body: () => ({ username: unique('renamed'), password: 'new-sip-pass-1' }) },
      password: { body: () => ({ password: 'new-sip-pass-2' }), writeOnly: true },
      displayName: { body: () => ({ displayName: 'Desk' }) },
      clir: { body: () => ({ clir: true }) },
      srtp: { body: () => ({ srtp: 'mandatory' }) },
      recordingMode: { body: () => ({ recordingMode: 'always' }) },
      status: { body: () => ({ status: 'locked' }), roles: PROVIDER },
      maxConcurrentCalls: { body: () => ({ maxConcurrentCalls: 2 }), roles: PROVIDER },
      rewriteRuleSetId: { body: () => ({ rewriteRuleSetId: ids.rsA }), roles: PROVIDER },
      allowedCalleePrefixes: { body: () => ({ allowedCalleePrefixes: ['43'] }), roles: PROVIDER },
      blockedCalleePrefixes: { body: () => ({ blockedCalleePrefixes: ['900'] }), roles: PROVIDER },
    },
  },
  {
    path: '/api/v1/subscribers/{id}/voicemail',
    writeRoles: ALL,
    fresh: async () => {
      const url = await created('/subscribers', {
        customerId: ids.cA,
        domainId: ids.dA,
        username: unique('vm'),
      });
      return `${url}/voicemail`;
    },
    fields: {
      enabled: { body: () => ({ enabled: true }) },
      pin: { body: () => ({ pin: '1234' }), writeOnly: true },
      maxMessageSeconds: { body: () => ({ maxMessageSeconds: 60 }) },
      maxMessages: { body: () => ({ maxMessages: 10 }) },
      email: { body: () => ({ email: 'vm@example.com' }) },
      deleteAfterEmail: { body: () => ({ deleteAfterEmail: true }) },
      unsolicitedMwi: { body: () => ({ unsolicitedMwi: true }) },
    },
  },
  {
    path: '/api/v1/voicemails/{id}',
    writeRoles: ALL,
    fresh: async () => {
      const row = await world.prisma.voicemailMessage.create({
        data: {
          subscriberId: ids.sA,
          customerId: ids.cA,
          caller: 'sip:x@y',
          durationMs: 1000,
          file: 'none.wav',
        },
      });
      return `/voicemails/${row.id}`;
    },
    fields: { heard: { body: () => ({ heard: true }) } },
  },
  {
    path: '/api/v1/numbers/{id}',
    writeRoles: PROVIDER,
    fresh: () =>
      created('/numbers', {
        subscriberId: ids.sA,
        countryCode: '43',
        areaCode: '7',
        subscriberNumber: String(10000 + ++seq),
        isPrimary: false,
      }),
    fields: {
      subscriberId: { body: () => ({ subscriberId: subscriberC }) },
      huntGroupId: { body: () => ({ huntGroupId: huntGroupA }) },
      autoAttendantId: { body: () => ({ autoAttendantId: attendantA }) },
      isPrimary: { body: () => ({ isPrimary: true }) },
    },
  },
  {
    path: '/api/v1/customers/{id}/recording-settings',
    writeRoles: ALL,
    fresh: async () => `/customers/${ids.cA}/recording-settings`,
    fields: {
      recordingMode: { body: () => ({ recordingMode: 'always' }) },
      recordingAnnouncement: { body: () => ({ recordingAnnouncement: true }) },
      recordingRetentionDays: { body: () => ({ recordingRetentionDays: 30 }) },
      recordingWebhookUrl: {
        body: () => ({ recordingWebhookUrl: 'https://hooks.example.org/rec' }),
        roles: PROVIDER,
      },
      recordingWebhookSecret: {
        body: () => ({ recordingWebhookSecret: 'sixteen-chars-or-more' }),
        roles: PROVIDER,
        writeOnly: true,
      },
    },
  },
  {
    path: '/api/v1/call-forwards/{id}',
    writeRoles: ALL,
    fresh: async () => {
      const sub = (
        await op('POST', '/subscribers', { customerId: ids.cA, domainId: ids.dA, username: unique('cf') })
      ).json();
      return created('/call-forwards', {
        subscriberId: sub.id,
        type: 'cfu',
        destinations: [{ kind: 'number', destination: '0664' }],
      });
    },
    fields: {
      enabled: { body: () => ({ enabled: false }) },
      ringTimeout: { body: () => ({ ringTimeout: 30 }) },
      destinations: {
        body: () => ({ destinations: [{ kind: 'number', destination: '123', ringTimeout: null }] }),
      },
    },
  },
  {
    path: '/api/v1/hunt-groups/{id}',
    writeRoles: ALL,
    fresh: () =>
      created('/hunt-groups', {
        customerId: ids.cA,
        domainId: ids.dA,
        username: unique('hunt'),
        name: 'Hunt',
        members: [ids.sA],
      }),
    fields: {
      name: { body: () => ({ name: 'Renamed' }) },
      strategy: { body: () => ({ strategy: 'sequential' }) },
      ringTimeout: { body: () => ({ ringTimeout: 30 }) },
      noAnswerKind: { body: () => ({ noAnswerKind: 'number', noAnswerDestination: '0664' }) },
      noAnswerDestination: { body: () => ({ noAnswerKind: 'uri', noAnswerDestination: 'alice' }) },
      enabled: { body: () => ({ enabled: false }) },
      members: { body: () => ({ members: [] }) },
    },
  },
  {
    path: '/api/v1/auto-attendants/{id}',
    writeRoles: ALL,
    fresh: () =>
      created('/auto-attendants', {
        customerId: ids.cA,
        domainId: ids.dA,
        username: unique('attendant'),
        name: 'Attendant',
        menu: [],
      }),
    fields: {
      name: { body: () => ({ name: 'Renamed' }) },
      greetingText: { body: () => ({ greetingText: 'Hello.' }) },
      digitTimeout: { body: () => ({ digitTimeout: 7 }) },
      maxReplays: { body: () => ({ maxReplays: 0 }) },
      timeoutKind: { body: () => ({ timeoutKind: 'number', timeoutTarget: '0664' }) },
      timeoutTarget: { body: () => ({ timeoutKind: 'subscriber', timeoutTarget: ids.sA }) },
      enabled: { body: () => ({ enabled: false }) },
      menu: { body: () => ({ menu: [] }) },
    },
  },
  {
    path: '/api/v1/rewrite-rule-sets/{id}',
    writeRoles: PROVIDER,
    fresh: () => created('/rewrite-rule-sets', { name: unique('set '), resellerId: ids.rA }),
    fields: {
      name: { body: () => ({ name: unique('renamed set ') }) },
      description: { body: () => ({ description: 'changed' }) },
    },
  },
  {
    path: '/api/v1/rewrite-rule-sets/{ruleSetId}/rules/{id}',
    writeRoles: PROVIDER,
    fresh: () =>
      created(`/rewrite-rule-sets/${ids.rsA}/rules`, {
        direction: 'from_subscriber',
        field: 'callee',
        matchPattern: '^0(\\d+)$',
        replacement: '43$1',
      }),
    fields: {
      direction: { body: () => ({ direction: 'to_subscriber' }) },
      field: { body: () => ({ field: 'caller' }) },
      matchPattern: { body: () => ({ matchPattern: '^1(\\d+)$' }) },
      replacement: { body: () => ({ replacement: '$1' }) },
      priority: { body: () => ({ priority: 5 }) },
      enabled: { body: () => ({ enabled: false }) },
      description: { body: () => ({ description: 'changed' }) },
    },
  },
  {
    path: '/api/v1/peering-groups/{id}',
    writeRoles: OPERATOR,
    fresh: () => created('/peering-groups', { name: unique('group ') }),
    fields: {
      name: { body: () => ({ name: unique('renamed group ') }) },
      description: { body: () => ({ description: 'changed' }) },
      priority: { body: () => ({ priority: 5 }) },
      enabled: { body: () => ({ enabled: false }) },
      rewriteRuleSetId: { body: () => ({ rewriteRuleSetId: ids.rsG }) },
      costProfileId: { body: () => ({ costProfileId: costProfile }) },
    },
  },
  {
    path: '/api/v1/billing-profiles/{id}',
    writeRoles: OPERATOR,
    fresh: () => created('/billing-profiles', { name: unique('profile '), kind: 'sell', currency: 'EUR' }),
    fields: {
      name: { body: () => ({ name: unique('renamed profile ') }) },
      description: { body: () => ({ description: 'changed' }) },
      timeZone: { body: () => ({ timeZone: 'Europe/Vienna' }) },
      peakTimes: { body: () => ({ peakTimes: [{ weekday: 1, startMinute: 480, endMinute: 1080 }] }) },
    },
  },
  {
    // Balances change only by top-ups and calls; a customer sets its own threshold and e-mail.
    path: '/api/v1/customers/{customerId}/credit',
    writeRoles: ALL,
    fresh: async () => `/customers/${ids.cA}/credit`,
    fields: {
      prepaid: { body: () => ({ prepaid: true }), roles: PROVIDER },
      lowBalanceThreshold: { body: () => ({ lowBalanceThreshold: '1.500000' }) },
      notifyEmail: { body: () => ({ notifyEmail: 'alerts@test.example' }) },
      webhookUrl: { body: () => ({ webhookUrl: 'https://hooks.test.example/credit' }), roles: PROVIDER },
      dailyLimit: { body: () => ({ dailyLimit: '10.000000' }), roles: PROVIDER },
      monthlyLimit: { body: () => ({ monthlyLimit: '100.000000' }), roles: PROVIDER },
      limitWarnPercent: { body: () => ({ limitWarnPercent: 90 }), roles: PROVIDER },
      blockedUntil: { body: () => ({ blockedUntil: null }), roles: PROVIDER },
      highRiskAction: { body: () => ({ highRiskAction: 'block' }), roles: PROVIDER },
      burstCalls: { body: () => ({ burstCalls: 30, burstSeconds: 60 }), roles: PROVIDER },
      burstSeconds: { body: () => ({ burstSeconds: 120, burstCalls: 40 }), roles: PROVIDER },
    },
  },
  {
    // The operator's fraud screening list; resellers read it.
    path: '/api/v1/high-risk-prefixes/{prefix}',
    writeRoles: OPERATOR,
    fresh: async () => {
      const prefix = String(880_000 + ++seq);
      expect((await op('POST', '/high-risk-prefixes', { prefix })).statusCode).toBe(201);
      return `/high-risk-prefixes/${prefix}`;
    },
    fields: { note: { body: () => ({ note: unique('note ') }) } },
  },
  {
    path: '/api/v1/subscribers/{subscriberId}/spend-limit',
    writeRoles: PROVIDER,
    fresh: async () =>
      `${await created('/subscribers', { customerId: ids.cA, domainId: ids.dA, username: unique('spend') })}/spend-limit`,
    fields: {
      dailyLimit: { body: () => ({ dailyLimit: '5.000000' }) },
      monthlyLimit: { body: () => ({ monthlyLimit: '50.000000' }) },
      limitWarnPercent: { body: () => ({ limitWarnPercent: 75 }) },
      blockedUntil: { body: () => ({ blockedUntil: null }) },
    },
  },
  {
    path: '/api/v1/peering-groups/{groupId}/gateways/{id}',
    writeRoles: OPERATOR,
    fresh: () =>
      created(`/peering-groups/${ids.pg}/gateways`, { name: unique('gw'), host: 'gw.example.net' }),
    fields: {
      name: { body: () => ({ name: unique('renamed gw') }) },
      host: { body: () => ({ host: 'gw2.example.net' }) },
      port: { body: () => ({ port: 5080 }) },
      transport: { body: () => ({ transport: 'tcp' }) },
      authUsername: { body: () => ({ authUsername: 'trunk' }) },
      authRealm: { body: () => ({ authRealm: 'carrier.example' }) },
      authPassword: {
        body: () => ({ authUsername: 'trunk', authPassword: 'trunk-secret' }),
        writeOnly: true,
      },
      priority: { body: () => ({ priority: 5 }) },
      weight: { body: () => ({ weight: 7 }) },
      enabled: { body: () => ({ enabled: false }) },
      trustedSources: { body: () => ({ trustedSources: ['192.0.2.0/24'] }) },
      registerEnabled: {
        body: () => ({
          registerEnabled: true,
          registrarUri: 'sip:reg.example.net',
          registerUsername: 'acme',
        }),
      },
      registrarUri: { body: () => ({ registrarUri: 'sip:reg.example.net' }) },
      registerUsername: { body: () => ({ registerUsername: 'acme' }) },
      registerPassword: { body: () => ({ registerPassword: 'reg-secret' }), writeOnly: true },
      registerRealm: { body: () => ({ registerRealm: 'example.net' }) },
      registerExpires: { body: () => ({ registerExpires: 600 }) },
      registerOutboundProxy: { body: () => ({ registerOutboundProxy: 'sip:proxy.example.net' }) },
      registerTransport: { body: () => ({ registerTransport: 'tcp' }) },
      registerContactUser: { body: () => ({ registerContactUser: 'tr-0123456789abcdef' }) },
      healthCheck: { body: () => ({ healthCheck: true }) },
      healthInterval: { body: () => ({ healthInterval: 15 }) },
      healthThreshold: { body: () => ({ healthThreshold: 5 }) },
    },
  },
  {
    path: '/api/v1/peering-groups/{groupId}/rules/{id}',
    writeRoles: OPERATOR,
    fresh: () => created(`/peering-groups/${ids.pg}/rules`, { calleePrefix: '44' }),
    fields: {
      calleePrefix: { body: () => ({ calleePrefix: '49' }) },
      callerPattern: { body: () => ({ callerPattern: '^43' }) },
      priority: { body: () => ({ priority: 5 }) },
      enabled: { body: () => ({ enabled: false }) },
      description: { body: () => ({ description: 'changed' }) },
    },
  },
  {
    path: '/api/v1/header-rule-sets/{id}',
    writeRoles: OPERATOR,
    fresh: () => created('/header-rule-sets', { name: unique('headers ') }),
    fields: {
      name: { body: () => ({ name: unique('renamed headers ') }) },
      description: { body: () => ({ description: 'changed' }) },
    },
  },
  {
    path: '/api/v1/header-rule-sets/{ruleSetId}/rules/{id}',
    writeRoles: OPERATOR,
    fresh: async () => {
      const set = await created('/header-rule-sets', { name: unique('headers ') });
      return created(`${set}/rules`, { action: 'add_header', targetHeader: 'X-A', value: 'a' });
    },
    fields: {
      priority: { body: () => ({ priority: 5 }) },
      enabled: { body: () => ({ enabled: false }) },
      description: { body: () => ({ description: 'changed' }) },
      direction: { body: () => ({ direction: 'outbound' }) },
      method: { body: () => ({ method: 'INVITE' }) },
      headerName: { body: () => ({ headerName: 'X-B' }) },
      headerPattern: { body: () => ({ headerName: 'X-B', headerPattern: '^b' }) },
      sourceAddress: { body: () => ({ sourceAddress: '192.0.2.0/24' }) },
      callerPattern: { body: () => ({ callerPattern: '^49' }) },
      calleePattern: { body: () => ({ calleePattern: '^49' }) },
      action: { body: () => ({ action: 'replace_header' }) },
      targetHeader: { body: () => ({ targetHeader: 'X-C' }) },
      matchPattern: { body: () => ({ matchPattern: '^a' }) },
      value: { body: () => ({ value: 'b' }) },
    },
  },
  {
    path: '/api/v1/header-rule-bindings/{id}',
    writeRoles: OPERATOR,
    fresh: async () => {
      const set = await op('POST', '/header-rule-sets', { name: unique('bound ') });
      return created('/header-rule-bindings', {
        ruleSetId: set.json().id,
        direction: 'outbound',
        peeringGroupId: ids.pg,
      });
    },
    fields: {
      ruleSetId: { body: () => ({ ruleSetId: spareRuleSet }) },
      direction: { body: () => ({ direction: 'inbound' }) },
      peeringGroupId: { body: () => ({ peeringGroupId: ids.pg }) },
      gatewayId: { body: () => ({ peeringGroupId: null, gatewayId: gatewayForPolicies }) },
      domainId: { body: () => ({ peeringGroupId: null, domainId: ids.dA }) },
      priority: { body: () => ({ priority: 5 }) },
    },
  },
  {
    path: '/api/v1/peer-policies/{id}',
    writeRoles: OPERATOR,
    fresh: async () => {
      const gateway = await op('POST', `/peering-groups/${ids.pg}/gateways`, {
        name: unique('policy-gw'),
        host: 'gw.example.net',
      });
      return created('/peer-policies', { gatewayId: gateway.json().id });
    },
    fields: {
      gatewayId: { body: () => ({ gatewayId: gatewayForPolicies }) },
      peeringGroupId: { body: () => ({ gatewayId: null, peeringGroupId: ids.pg }) },
      topologyHiding: { body: () => ({ topologyHiding: false }) },
      maxConcurrentCalls: { body: () => ({ maxConcurrentCalls: 2 }) },
      maxCallsPerSecond: { body: () => ({ maxCallsPerSecond: 5 }) },
      maxCallDuration: { body: () => ({ maxCallDuration: 3600 }) },
      codecAllow: { body: () => ({ codecAllow: ['PCMA', 'PCMU'] }) },
      codecStrip: { body: () => ({ codecStrip: ['G729'] }) },
      codecMask: { body: () => ({ codecMask: ['G722'] }) },
      codecTranscode: { body: () => ({ codecTranscode: ['PCMA'] }) },
      ptime: { body: () => ({ ptime: 30 }) },
      dtmfEvents: { body: () => ({ dtmfEvents: true }) },
      dtmfInfo: { body: () => ({ dtmfInfo: true }) },
    },
  },
  {
    path: '/api/v1/ip-bans/{id}',
    writeRoles: OPERATOR,
    fresh: () => created('/ip-bans', { address: `203.0.113.${++seq % 250}` }),
    fields: {
      reason: { body: () => ({ reason: 'abuse' }) },
      expiresAt: { body: () => ({ expiresAt: '2030-01-01T00:00:00.000Z' }) },
    },
  },
  {
    path: '/api/v1/users/{id}',
    writeRoles: ALL,
    fresh: () =>
      created('/users', {
        email: `${unique('policy')}@test.example`,
        password: 'long enough password',
        role: 'customer',
        customerId: ids.cA,
      }),
    fields: {
      displayName: { body: () => ({ displayName: 'Someone' }) },
      password: { body: () => ({ password: 'another long password' }), writeOnly: true },
      enabled: { body: () => ({ enabled: false }), roles: PROVIDER },
    },
  },
  {
    // One resource for the whole platform: the answer lists every setting with its value.
    path: '/api/v1/settings',
    writeRoles: OPERATOR,
    fresh: async () => '/settings',
    shown: (answer) =>
      Object.fromEntries(
        (answer as { settings: { key: string; value: unknown }[] }).settings.map((s) => [s.key, s.value]),
      ),
    fields: {
      'access.trustedSources': { body: () => ({ 'access.trustedSources': ['192.0.2.0/24'] }) },
      'access.rateLimitPerSecond': { body: () => ({ 'access.rateLimitPerSecond': 0 }) },
      'access.rateLimitBurst': { body: () => ({ 'access.rateLimitBurst': 100 }) },
      'access.maxFailuresPerAddress': { body: () => ({ 'access.maxFailuresPerAddress': 5 }) },
      'access.banDuration': { body: () => ({ 'access.banDuration': 600 }) },
      'registrar.minExpires': { body: () => ({ 'registrar.minExpires': 120 }) },
      'registrar.maxExpires': { body: () => ({ 'registrar.maxExpires': 7200 }) },
      'auth.strictUri': { body: () => ({ 'auth.strictUri': true }) },
      'calls.ringTimeout': { body: () => ({ 'calls.ringTimeout': 30 }) },
      'calls.maxCallDuration': { body: () => ({ 'calls.maxCallDuration': 3600 }) },
      'calls.pushWaitTimeout': { body: () => ({ 'calls.pushWaitTimeout': 20 }) },
      'calls.maxConcurrent': { body: () => ({ 'calls.maxConcurrent': 500 }) },
      'calls.maxPerSecond': { body: () => ({ 'calls.maxPerSecond': 50 }) },
      'presence.acrossCustomers': { body: () => ({ 'presence.acrossCustomers': true }) },
      'presence.maxSubscriptionsPerSubscriber': {
        body: () => ({ 'presence.maxSubscriptionsPerSubscriber': 20 }),
      },
      'messages.maxBytes': { body: () => ({ 'messages.maxBytes': 1024 }) },
      'messages.ratePerMinute': { body: () => ({ 'messages.ratePerMinute': 30 }) },
      // false: true would leave this suite's operator, who has no second factor, only the enrolment.
      'web.requireTwoFactor': { body: () => ({ 'web.requireTwoFactor': false }) },
    },
  },
];

/**
 * PATCH routes whose body is not a set of independent fields, with the test that holds their role rules.
 * A push credential's PATCH replaces the whole sealed key (every field of one provider together).
 */
const COVERED_ELSEWHERE: Record<string, string> = {
  '/api/v1/push-credentials/{id}':
    'push-credentials.test.ts: operator and owning reseller 200, other reseller 404, customer 403',
};

describe('the policy table covers the API', () => {
  it('lists every PATCH route and every field of its body', async () => {
    const doc = (await world.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const documented: Record<string, string[]> = {};
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      const patch = item.patch as
        | { requestBody: { content: Record<string, { schema: { properties: object } }> } }
        | undefined;
      if (patch === undefined) continue;
      documented[path] = Object.keys(patch.requestBody.content['application/json']!.schema.properties).sort();
    }
    for (const path of Object.keys(COVERED_ELSEWHERE)) delete documented[path];
    const table = Object.fromEntries(ROUTES.map((r) => [r.path, Object.keys(r.fields).sort()]));
    expect(table).toEqual(documented);
  });
});

describe.each(ROUTES.map((r) => [r.path, r] as const))('PATCH %s', (_path, route) => {
  const cases = Object.entries(route.fields).flatMap(([field, c]) =>
    ALL.map((role) => [field, role, c] as const),
  );
  it.each(cases)('%s as %s', async (field, role, c) => {
    const url = await route.fresh();
    const before = (await op('GET', url)).json();
    const body = c.body();
    const res = await call(ACTORS[role], 'PATCH', url, body);
    const allowed = route.writeRoles.includes(role) && (c.roles ?? route.writeRoles).includes(role);
    if (allowed) {
      expect(res.statusCode, res.body).toBe(200);
      if (!c.writeOnly)
        expect((route.shown ?? ((a) => a))(res.json())).toMatchObject({ [field]: body[field] });
      return;
    }
    expect(res.statusCode, res.body).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    if (route.writeRoles.includes(role)) {
      expect(res.json().errors).toContainEqual({
        field: `/body/${field}`,
        message: `a ${role} may not set this field`,
      });
    }
    expect((await op('GET', url)).json()).toEqual(before);
  });
});

describe('a customer cannot undo what its provider locked', () => {
  it('a subscriber locked or terminated by the reseller stays so (the reported case)', async () => {
    for (const status of ['locked', 'terminated'] as const) {
      const url = await created('/subscribers', {
        customerId: ids.cA,
        domainId: ids.dA,
        username: unique('locked'),
      });
      expect((await call('resellerA', 'PATCH', url, { status })).statusCode).toBe(200);
      const undo = await call('customerA', 'PATCH', url, { status: 'active' });
      expect(undo.statusCode, undo.body).toBe(403);
      expect(undo.json().errors).toEqual([
        { field: '/body/status', message: 'a customer may not set this field' },
      ]);
      // Other fields and routes leave the status as the reseller set it.
      const change = await call('customerA', 'PATCH', url, { password: 'new-sip-pass-3', displayName: 'x' });
      expect(change.statusCode, change.body).toBe(200);
      expect(change.json().status).toBe(status);
      // Renamed, its name would be free for a new, active subscriber.
      const rename = await call('customerA', 'PATCH', url, {
        username: unique('again'),
        password: 'new-sip-pass-4',
      });
      expect(rename.statusCode, rename.body).toBe(403);
      expect(rename.json().errors).toEqual([{ field: '/body/username', message: 'locked by the reseller' }]);
      expect((await call('customerA', 'POST', `${url}/reset-password`)).statusCode).toBe(200);
      // Deleting and creating it again would be the lock undone by another route.
      const del = await call('customerA', 'DELETE', url);
      expect(del.statusCode, del.body).toBe(403);
      expect(del.headers['content-type']).toContain('application/problem+json');
      expect((await op('GET', url)).json().status).toBe(status);
    }
  });

  it('a customer may not create a subscriber with a status of its choosing', async () => {
    const res = await call('customerA', 'POST', '/subscribers', {
      domainId: ids.dA,
      username: unique('self'),
      status: 'active',
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().errors[0].field).toBe('/body/status');
  });

  it('a login disabled by the reseller stays disabled and cannot be deleted by the customer', async () => {
    const url = await created('/users', {
      email: `${unique('disabled')}@test.example`,
      password: 'long enough password',
      role: 'customer',
      customerId: ids.cA,
    });
    expect((await call('resellerA', 'PATCH', url, { enabled: false })).statusCode).toBe(200);
    const undo = await call('customerA', 'PATCH', url, { enabled: true });
    expect(undo.statusCode).toBe(403);
    expect(undo.json().errors[0].field).toBe('/body/enabled');
    expect((await call('customerA', 'DELETE', url)).statusCode).toBe(403);
    expect((await op('GET', url)).json().enabled).toBe(false);
  });

  it('an active subscriber is still the customer’s to delete', async () => {
    const url = await created('/subscribers', {
      customerId: ids.cA,
      domainId: ids.dA,
      username: unique('mine'),
    });
    expect((await call('customerA', 'DELETE', url)).statusCode).toBe(204);
  });
});

describe('a reseller cannot undo what the operator locked', () => {
  const newSubscriber = () =>
    created('/subscribers', { customerId: ids.cA, domainId: ids.dA, username: unique('oplock') });

  it('a subscriber the operator locked: the reseller may not unlock or delete it; the operator may', async () => {
    const url = await newSubscriber();
    expect((await op('PATCH', url, { status: 'locked' })).statusCode).toBe(200);
    const undo = await call('resellerA', 'PATCH', url, { status: 'active' });
    expect(undo.statusCode, undo.body).toBe(403);
    expect(undo.json().errors).toEqual([{ field: '/body/status', message: 'set by the operator' }]);
    // Nor may it take the lock over by setting it again or terminating.
    expect((await call('resellerA', 'PATCH', url, { status: 'terminated' })).statusCode).toBe(403);
    expect((await call('resellerA', 'PATCH', url, { status: 'locked', displayName: 'x' })).statusCode).toBe(
      200,
    );
    expect((await call('resellerA', 'PATCH', url, { status: 'active' })).statusCode).toBe(403);
    expect((await call('resellerA', 'DELETE', url)).statusCode).toBe(403);
    expect((await op('GET', url)).json().status).toBe('locked');
    expect((await op('PATCH', url, { status: 'active' })).statusCode).toBe(200);
    // Unlocked, it is the reseller's to lock and unlock again.
    expect((await call('resellerA', 'PATCH', url, { status: 'locked' })).statusCode).toBe(200);
    expect((await call('resellerA', 'PATCH', url, { status: 'active' })).statusCode).toBe(200);
  });

  it('a customer the operator locked: the reseller may change other fields, not the status, and not delete it', async () => {
    const url = await created('/customers', {
      name: unique('Locked customer '),
      resellerId: ids.rA,
      status: 'locked',
    });
    const undo = await call('resellerA', 'PATCH', url, { status: 'active' });
    expect(undo.statusCode).toBe(403);
    expect(undo.json().errors[0].field).toBe('/body/status');
    expect((await call('resellerA', 'PATCH', url, { externalId: 'crm-1' })).statusCode).toBe(200);
    expect((await call('resellerA', 'DELETE', url)).statusCode).toBe(403);
    expect((await op('GET', url)).json().status).toBe('locked');
  });

  it('a login the operator disabled: the reseller may not enable it again', async () => {
    const url = await created('/users', {
      email: `${unique('opdisabled')}@test.example`,
      password: 'long enough password',
      role: 'customer',
      customerId: ids.cA,
      enabled: false,
    });
    const undo = await call('resellerA', 'PATCH', url, { enabled: true });
    expect(undo.statusCode).toBe(403);
    expect(undo.json().errors).toEqual([{ field: '/body/enabled', message: 'set by the operator' }]);
    expect((await op('GET', url)).json().enabled).toBe(false);
  });

  it('a lock from before owners were recorded counts as the reseller’s', async () => {
    const url = await newSubscriber();
    await world.prisma.subscriber.update({
      where: { id: url.split('/').pop()! },
      data: { status: 'locked' },
    });
    expect((await call('customerA', 'DELETE', url)).statusCode).toBe(403);
    expect((await call('resellerA', 'PATCH', url, { status: 'active' })).statusCode).toBe(200);
  });
});
