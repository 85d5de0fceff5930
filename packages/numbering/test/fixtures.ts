// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rewrite rules write variables as ${name} in plain strings
import type { NumberingData } from '../src/types.ts';

/** A small platform: two domains, three subscribers, a Vienna rule set, two peering groups. */
export function sampleData(): NumberingData {
  return {
    domains: [
      {
        id: 'd-at',
        name: 'example.com',
        countryCode: '43',
        nationalPrefix: '0',
        internationalPrefix: '00',
        areaCode: '1',
        rewriteRuleSetId: 'rs-at',
      },
      {
        id: 'd-us',
        name: 'example.us',
        countryCode: '1',
        nationalPrefix: '1',
        internationalPrefix: '011',
        areaCode: '212',
        rewriteRuleSetId: null,
      },
    ],
    subscribers: [
      sub('s-bob', 'd-at', 'bob'),
      { ...sub('s-alice', 'd-at', 'alice'), clir: true },
      { ...sub('s-carol', 'd-us', 'carol'), blockedCalleePrefixes: ['1900'], allowedCalleePrefixes: [] },
      { ...sub('s-dave', 'd-at', 'dave'), allowedCalleePrefixes: ['43'], blockedCalleePrefixes: ['43900'] },
    ],
    numbers: [
      { id: 'n1', e164: '+4311001', subscriberId: 's-bob', isPrimary: true },
      { id: 'n2', e164: '+4311002', subscriberId: 's-bob', isPrimary: false },
      { id: 'n3', e164: '4311003', subscriberId: 's-alice', isPrimary: true },
      { id: 'n4', e164: '+12125550100', subscriberId: 's-carol', isPrimary: true },
      { id: 'n5', e164: '+4311009', subscriberId: null, isPrimary: false },
    ],
    rewriteRuleSets: [
      {
        id: 'rs-at',
        name: 'Austria',
        rules: [
          rule('r1', 'from_subscriber', 'callee', '^00([1-9][0-9]+)$', '$1', 10),
          rule('r2', 'from_subscriber', 'callee', '^0([1-9][0-9]+)$', '${cc}$1', 20),
          rule('r3', 'from_subscriber', 'callee', '^([1-9][0-9]{2,7})$', '${cc}${ac}$1', 30),
          rule('r4', 'to_subscriber', 'caller', '^${cc}([1-9][0-9]+)$', '0$1', 10),
          rule('r5', 'to_subscriber', 'caller', '^([1-9][0-9]+)$', '00$1', 20),
        ],
      },
    ],
    peeringGroups: [
      { id: 'g-cheap', name: 'cheap', priority: 1, enabled: true, rewriteRuleSetId: null },
      { id: 'g-backup', name: 'backup', priority: 2, enabled: true, rewriteRuleSetId: null },
      { id: 'g-off', name: 'off', priority: 0, enabled: false, rewriteRuleSetId: null },
    ],
    gateways: [
      gw('gw-c1', 'g-cheap', 'c1', 3),
      gw('gw-c2', 'g-cheap', 'c2', 1),
      { ...gw('gw-c3', 'g-cheap', 'c3', 5), enabled: false },
      gw('gw-b1', 'g-backup', 'b1', 1),
      gw('gw-off', 'g-off', 'off', 1),
    ],
    peeringRules: [
      {
        id: 'pr-default',
        groupId: 'g-backup',
        calleePrefix: '',
        callerPattern: null,
        priority: 100,
        enabled: true,
      },
      {
        id: 'pr-at',
        groupId: 'g-cheap',
        calleePrefix: '43',
        callerPattern: null,
        priority: 100,
        enabled: true,
      },
      {
        id: 'pr-at-backup',
        groupId: 'g-backup',
        calleePrefix: '43',
        callerPattern: null,
        priority: 100,
        enabled: true,
      },
      {
        id: 'pr-off',
        groupId: 'g-off',
        calleePrefix: '4366',
        callerPattern: null,
        priority: 100,
        enabled: true,
      },
      {
        id: 'pr-us-from-at',
        groupId: 'g-cheap',
        calleePrefix: '1',
        callerPattern: '^43',
        priority: 100,
        enabled: true,
      },
    ],
  };
}

function sub(id: string, domainId: string, username: string) {
  return {
    id,
    domainId,
    username,
    clir: false,
    areaCode: null,
    rewriteRuleSetId: null,
    allowedCalleePrefixes: [],
    blockedCalleePrefixes: [],
  };
}

export function rule(
  id: string,
  direction: 'inbound_from_peer' | 'outbound_to_peer' | 'from_subscriber' | 'to_subscriber',
  field: 'caller' | 'callee',
  matchPattern: string,
  replacement: string,
  priority: number,
) {
  return { id, direction, field, matchPattern, replacement, priority, enabled: true };
}

function gw(id: string, groupId: string, name: string, weight: number) {
  return {
    id,
    groupId,
    name,
    host: `${name}.gw.test`,
    port: 5060,
    transport: 'udp' as const,
    priority: 1,
    weight,
    enabled: true,
  };
}

/** A deterministic random source: returns the given values in turn, cycling. */
export function sequenceRng(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}
