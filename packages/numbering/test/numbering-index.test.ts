import { describe, expect, it } from 'vitest';
import { NumberingIndex } from '../src/numbering-index.ts';
import { rule, sampleData } from './fixtures.ts';

describe('NumberingIndex', () => {
  const index = new NumberingIndex(sampleData(), { rng: () => 0 });

  it('maps DIDs and aliases to the subscriber URI', () => {
    expect(index.lookupNumber('+4311001')).toMatchObject({
      uri: 'sip:bob@example.com',
      isPrimary: true,
      e164: '+4311001',
    });
    expect(index.lookupNumber('4311002')).toMatchObject({ uri: 'sip:bob@example.com', isPrimary: false });
    expect(index.lookupNumber('+12125550100')?.uri).toBe('sip:carol@example.us');
  });

  it("keeps hunt groups' and attendants' numbers apart from subscribers' (none is a caller ID)", () => {
    const data = sampleData();
    data.numbers.push(
      { id: 'n-group', e164: '+4311200', subscriberId: null, huntGroupId: 'h-sales', isPrimary: false },
      { id: 'n-main', e164: '+4311300', subscriberId: null, autoAttendantId: 'a-main', isPrimary: false },
    );
    const pbx = new NumberingIndex(data, { rng: () => 0 });
    expect(pbx.lookupAttendantNumber('+4311300')).toEqual({
      e164: '+4311300',
      numberId: 'n-main',
      autoAttendantId: 'a-main',
    });
    expect(pbx.lookupAttendantNumber('4311300')?.autoAttendantId).toBe('a-main');
    expect(pbx.lookupHuntGroupNumber('+4311200')?.huntGroupId).toBe('h-sales');
    expect(pbx.lookupAttendantNumber('+4311200')).toBeNull();
    expect(pbx.lookupHuntGroupNumber('+4311300')).toBeNull();
    expect(pbx.lookupNumber('+4311300')).toBeNull();
    expect(pbx.lookupAttendantNumber('+4311001')).toBeNull();
  });

  it('answers null for unknown and unassigned numbers', () => {
    expect(index.lookupNumber('+4311999')).toBeNull();
    expect(index.lookupNumber('+4311009')).toBeNull();
    expect(index.lookupNumber('')).toBeNull();
  });

  it("hands out a subscriber's id and username for another index to share, nothing for an unknown one", () => {
    expect(index.subscriberStrings('s-bob')).toMatchObject({ id: 's-bob', username: 'bob' });
    expect(index.subscriberStrings('s-nobody')).toBeUndefined();
  });

  it('presents a caller by its primary number, anonymous under CLIR', () => {
    expect(index.presentCaller('sip:bob@example.com')).toEqual({
      subscriberId: 's-bob',
      number: '+4311001',
      clir: false,
      presented: '+4311001',
    });
    expect(index.presentCaller('<sip:bob@EXAMPLE.com;transport=tcp>'.slice(1))?.presented).toBe('+4311001');
    expect(index.presentCaller('sip:alice@example.com')).toMatchObject({
      number: '+4311003',
      clir: true,
      presented: 'anonymous',
    });
    expect(index.presentCaller('sip:dave@example.com')).toMatchObject({
      number: null,
      presented: 'anonymous',
    });
    expect(index.presentCaller('sip:nobody@example.com')).toBeNull();
    expect(index.presentCaller('not a uri')).toBeNull();
  });

  it('normalises with the domain dial plan', () => {
    expect(index.normalise('example.com', '1001')).toMatchObject({ e164: '+4311001', via: 'local' });
    expect(index.normalise('example.us', '555 0100')).toMatchObject({ e164: '+12125550100' });
    expect(() => index.normalise('nowhere.test', '1001')).toThrow(/unknown domain/);
  });

  it('rewrites with the subscriber (domain) rule set and caller variables', () => {
    expect(index.rewriteForSubscriber('s-bob', 'from_subscriber', 'callee', '06601234567').output).toBe(
      '436601234567',
    );
    expect(index.rewriteForSubscriber('s-bob', 'to_subscriber', 'caller', '4311003').output).toBe('011003');
    // carol's domain has no rule set: unchanged
    expect(index.rewriteForSubscriber('s-carol', 'from_subscriber', 'callee', '06601234567').output).toBe(
      '06601234567',
    );
  });

  it('rewrites with a peering group rule set', () => {
    const data = sampleData();
    data.peeringGroups[0]!.rewriteRuleSetId = 'rs-peer';
    data.rewriteRuleSets.push({
      id: 'rs-peer',
      name: 'carrier wants 00',
      rules: [rule('p1', 'outbound_to_peer', 'callee', '^([1-9][0-9]+)$', '00$1', 1)],
    });
    const local = new NumberingIndex(data);
    expect(local.rewriteForPeer('g-cheap', 'outbound_to_peer', 'callee', '4930123456').output).toBe(
      '004930123456',
    );
    expect(local.rewriteForPeer('g-backup', 'outbound_to_peer', 'callee', '4930123456').output).toBe(
      '4930123456',
    );
  });

  it('routes calls, honouring the subscriber barring', () => {
    expect(index.routeCall({ callee: '+4311001' }).gateways.map((g) => g.gatewayName)).toEqual([
      'c1',
      'c2',
      'b1',
    ]);
    expect(() => index.routeCall({ callee: '+19005551234', subscriberId: 's-carol' })).toThrow(/barred/);
    expect(() => index.routeCall({ callee: '+4930123456', subscriberId: 's-dave' })).toThrow(/barred/);
    expect(index.routeCall({ callee: '+4930123456', subscriberId: 's-bob' }).gateways).toHaveLength(1);
    expect(() => index.routeCall({ callee: 'abc' })).toThrow(/not an E.164/);
  });

  it('says when nothing routes', () => {
    const data = sampleData();
    data.peeringRules = data.peeringRules.filter((rule) => rule.calleePrefix !== '');
    const bare = new NumberingIndex(data);
    expect(() => bare.routeCall({ callee: '+4930123456' })).toThrow(/no peering rule/);
  });

  it('swaps snapshots atomically and reports what it left out', () => {
    const local = new NumberingIndex(sampleData());
    expect(local.version).toBe(0);
    const data = sampleData();
    data.numbers.push({ id: 'n-new', e164: '+4311050', subscriberId: 's-bob', isPrimary: false });
    data.numbers.push({ id: 'n-bad', e164: '+999', subscriberId: 's-bob', isPrimary: false });
    data.numbers.push({ id: 'n-orphan', e164: '+4311051', subscriberId: 's-gone', isPrimary: false });
    data.rewriteRuleSets.push({
      id: 'rs-bad',
      name: 'bad',
      rules: [
        {
          id: 'x',
          direction: 'inbound_from_peer',
          field: 'callee',
          matchPattern: '(a+)+',
          replacement: '',
          priority: 1,
          enabled: true,
        },
      ],
    });
    const problems = local.replace(data);
    expect(local.version).toBe(1);
    expect(local.lookupNumber('+4311050')?.uri).toBe('sip:bob@example.com');
    expect(problems.map((problem) => [problem.kind, problem.id])).toEqual([
      ['number', 'n-bad'],
      ['number', 'n-orphan'],
      ['rewrite-rule-set', 'rs-bad'],
    ]);
    expect(local.ruleSet('rs-bad')).toBeNull();
    expect(local.size).toEqual({ numbers: 5, subscribers: 4, peeringRules: 4 });
  });
});
