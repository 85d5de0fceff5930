import { describe, expect, it } from 'vitest';
import { NumberingError } from '../src/errors.ts';
import {
  buildLcrTable,
  isCalleeAllowed,
  selectRoutes,
  validatePeeringRule,
  weightedOrder,
} from '../src/lcr.ts';
import { sampleData, sequenceRng } from './fixtures.ts';

const names = (routes: { gatewayName: string }[]) => routes.map((route) => route.gatewayName);

describe('least-cost routing order', () => {
  const table = buildLcrTable(sampleData());

  it.each([
    // callee, caller, rng values, expected failover order
    // Austria: cheap group (longest prefix 43, priority 1) then backup (43, priority 2); the default
    // route '' also points at backup, which appears only once.
    ['4311001', null, [0.0], ['c1', 'c2', 'b1']],
    // Weighted: c1 has weight 3, c2 weight 1: a draw in the last quarter picks c2 first.
    ['4311001', null, [0.9], ['c2', 'c1', 'b1']],
    // 4366: the longest prefix belongs to a disabled group, so it falls back to 43.
    ['436601234567', null, [0.5], ['c1', 'c2', 'b1']],
    // Germany: only the default route.
    ['49301234567', null, [0.5], ['b1']],
    // US with an Austrian caller: caller pattern ^43 sends it to the cheap group first.
    ['12125550100', '4311001', [0.1], ['c1', 'c2', 'b1']],
    // US with another caller or none: the caller-pattern rule does not apply.
    ['12125550100', '4930123456', [0.1], ['b1']],
    ['12125550100', null, [0.1], ['b1']],
  ] as const)('%s from %s', (callee, caller, rng, expected) => {
    expect(names(selectRoutes(table, callee, caller, sequenceRng([...rng])))).toEqual(expected);
  });

  it('never lists disabled gateways or gateways of disabled groups', () => {
    for (let i = 0; i < 50; i++) {
      const routes = names(selectRoutes(table, '436601234567', null, Math.random));
      expect(routes).not.toContain('c3');
      expect(routes).not.toContain('off');
    }
  });

  it('reports the selecting rule and prefix', () => {
    const [first] = selectRoutes(table, '4311001', null, () => 0);
    expect(first).toMatchObject({
      ruleId: 'pr-at',
      calleePrefix: '43',
      groupName: 'cheap',
      host: 'c1.gw.test',
      port: 5060,
    });
  });

  it('prefers the longest prefix over a better group priority', () => {
    const data = sampleData();
    data.peeringRules.push({
      id: 'pr-vienna',
      groupId: 'g-backup',
      calleePrefix: '431',
      callerPattern: null,
      priority: 100,
      enabled: true,
    });
    expect(names(selectRoutes(buildLcrTable(data), '4311001', null, () => 0))).toEqual(['b1', 'c1', 'c2']);
  });

  it('orders same-prefix rules by rule priority before group priority', () => {
    const data = sampleData();
    data.peeringRules.find((rule) => rule.id === 'pr-at-backup')!.priority = 10;
    expect(names(selectRoutes(buildLcrTable(data), '4311001', null, () => 0))).toEqual(['b1', 'c1', 'c2']);
  });

  it('tries gateways of a group by priority, weights only within the same priority', () => {
    const data = sampleData();
    data.gateways.find((gateway) => gateway.id === 'gw-c2')!.priority = 0;
    // c2 alone in the first tier, whatever the draw; then c1.
    for (const draw of [0, 0.5, 0.99]) {
      expect(names(selectRoutes(buildLcrTable(data), '4311001', null, () => draw))).toEqual([
        'c2',
        'c1',
        'b1',
      ]);
    }
  });

  it('stops the failover list at maxGateways', () => {
    expect(names(selectRoutes(table, '4311001', null, () => 0, 2))).toEqual(['c1', 'c2']);
    expect(names(selectRoutes(table, '4311001', null, () => 0, 1))).toEqual(['c1']);
  });

  it('leaves out rules with unsafe caller patterns and says why', () => {
    const data = sampleData();
    data.peeringRules.push({
      id: 'pr-bad',
      groupId: 'g-cheap',
      calleePrefix: '44',
      callerPattern: '(1+)+',
      priority: 100,
      enabled: true,
    });
    const built = buildLcrTable(data);
    expect(built.rejected).toEqual([
      { ruleId: 'pr-bad', reason: expect.stringMatching(/nested quantifier/) },
    ]);
    expect(names(selectRoutes(built, '442079460000', null, () => 0))).toEqual(['b1']);
  });
});

describe('weightedOrder', () => {
  const items = [
    { id: 'a', weight: 1 },
    { id: 'b', weight: 2 },
    { id: 'c', weight: 0 },
    { id: 'd', weight: 1 },
  ];
  it.each([
    [
      [0.0, 0.0],
      ['a', 'b', 'd', 'c'],
    ],
    [
      [0.3, 0.0],
      ['b', 'a', 'd', 'c'],
    ],
    [
      [0.99, 0.99],
      ['d', 'b', 'a', 'c'],
    ],
  ])('rng %j -> %j', (values, expected) => {
    expect(weightedOrder(items, sequenceRng(values)).map((item) => item.id)).toEqual(expected);
  });

  it('follows the weights over many draws', () => {
    let seed = 42;
    const rng = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const firsts = { a: 0, b: 0, d: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) firsts[weightedOrder(items, rng)[0]!.id]! += 1;
    expect(firsts.b! / 4000).toBeGreaterThan(0.45);
    expect(firsts.b! / 4000).toBeLessThan(0.55);
    expect(firsts.a! / 4000).toBeGreaterThan(0.2);
    expect(firsts.a! / 4000).toBeLessThan(0.3);
  });
});

describe('per-subscriber allowed and blocked prefixes', () => {
  it.each([
    [[], [], '4311001', true],
    [[], ['1900'], '19005551234', false],
    [[], ['1900'], '12125550100', true],
    [['43'], [], '4311001', true],
    [['43'], [], '4930123456', false],
    [['43'], ['43900'], '439001234', false],
    [['43900123'], ['43900'], '439001234', false],
    [['43'], ['44'], '4311001', true],
    [['43'], ['43'], '4311001', false],
  ])('allowed %j blocked %j callee %s -> %s', (allowedPrefixes, blockedPrefixes, callee, expected) => {
    expect(
      isCalleeAllowed(
        { allowedCalleePrefixes: allowedPrefixes, blockedCalleePrefixes: blockedPrefixes },
        callee,
      ),
    ).toBe(expected);
  });
});

describe('validatePeeringRule', () => {
  it('accepts digit prefixes and safe caller patterns', () => {
    expect(() => validatePeeringRule({ calleePrefix: '+43', callerPattern: '^43' })).not.toThrow();
    expect(() => validatePeeringRule({ calleePrefix: '', callerPattern: null })).not.toThrow();
  });
  it.each([
    [{ calleePrefix: '43a', callerPattern: null }, /callee prefix/],
    [{ calleePrefix: '1'.repeat(16), callerPattern: null }, /callee prefix/],
    [{ calleePrefix: '43', callerPattern: '(\\d+)*' }, /nested quantifier/],
    [{ calleePrefix: '43', callerPattern: '(' }, /invalid regular expression/],
  ])('rejects %j', (rule, message) => {
    expect(() => validatePeeringRule(rule)).toThrow(NumberingError);
    expect(() => validatePeeringRule(rule)).toThrow(message);
  });
});
