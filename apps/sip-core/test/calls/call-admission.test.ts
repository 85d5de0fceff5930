import { compileHeaderRules, type HeaderRuleData, type RouteTarget } from '@switchboard/numbering';
import { describe, expect, it } from 'vitest';
import { ActiveCalls } from '../../src/calls/active-calls.ts';
import { stageFailure } from '../../src/calls/call-types.ts';
import { claimPeer, outgoingRequest, passThroughHeaders } from '../../src/sbc/towards-peer.ts';

const gateway = { gatewayId: 'gw1', groupId: 'carrier' } as RouteTarget;
const noLimits = { topologyHiding: true, gateway: {}, group: {} };

describe('call admission control per gateway and peering group', () => {
  it('counts a gateway leg for the gateway and its group until released; full: 503 with Retry-After', () => {
    const calls = new ActiveCalls();
    const policy = { ...noLimits, group: { maxConcurrentCalls: 2 }, gateway: { maxConcurrentCalls: 1 } };
    const first = claimPeer(calls, gateway, policy);
    expect(first.ok).toBe(true);
    expect(calls.peerCount('gateway', 'gw1')).toBe(1);
    expect(calls.peerCount('group', 'carrier')).toBe(1);
    expect(claimPeer(calls, gateway, policy)).toEqual({
      ok: false,
      status: 503,
      reason: 'Service Unavailable',
      retryAfter: 5,
    });
    // Another gateway of the same group still has room in the group.
    const other = claimPeer(calls, { ...gateway, gatewayId: 'gw2' }, policy);
    expect(other.ok).toBe(true);
    expect(claimPeer(calls, { ...gateway, gatewayId: 'gw3' }, policy)).toMatchObject({ status: 503 });
    if (first.ok) {
      first.release();
      first.release();
    }
    expect(calls.peerCount('gateway', 'gw1')).toBe(0);
    expect(calls.peerCount('group', 'carrier')).toBe(1);
    expect(claimPeer(calls, gateway, policy).ok).toBe(true);
  });

  it('admits at most maxPerSecond new calls in any one second; a refused call uses up no room', () => {
    const calls = new ActiveCalls();
    const limit = [{ scope: 'gateway' as const, id: 'gw1', maxPerSecond: 2 }];
    expect(calls.admitScopes(limit, 1000).ok).toBe(true);
    expect(calls.admitScopes(limit, 1500).ok).toBe(true);
    expect(calls.admitScopes(limit, 1900)).toMatchObject({ ok: false, status: 503, retryAfter: 1 });
    expect(calls.admitScopes(limit, 1999)).toMatchObject({ ok: false });
    // The call at 1000 is more than a second old at 2000.
    expect(calls.admitScopes(limit, 2000).ok).toBe(true);
    expect(calls.admitScopes(limit, 2100).ok).toBe(false);
  });

  it("refuses a customer's call over its call rate with 403, and checks every scope before counting", () => {
    const calls = new ActiveCalls();
    const customer = { scope: 'customer' as const, id: 'acme', maxPerSecond: 1 };
    const full = { scope: 'gateway' as const, id: 'gw1', maxPerSecond: 0 };
    // Refused by the gateway: the customer's second is not used up.
    expect(calls.admitScopes([customer, full], 0)).toMatchObject({ ok: false, status: 503 });
    expect(calls.admitScopes([customer], 0).ok).toBe(true);
    expect(calls.admitScopes([customer], 10)).toEqual({
      ok: false,
      status: 403,
      reason: 'Call Rate Exceeded',
    });
  });

  it('counts every refusal by scope and limit', async () => {
    const calls = new ActiveCalls();
    const seen: Array<{ scope: string; limit: string }> = [];
    calls.countRefusalsIn({ inc: (labels) => seen.push(labels) });
    calls.admitScopes([{ scope: 'group', id: 'g', maxConcurrent: 0 }]);
    calls.admitScopes([{ scope: 'customer', id: 'c', maxPerSecond: 0 }]);
    await calls.admit('c1', [{ subscriberId: 'alice', subscriberMax: 0 }]);
    expect(seen).toEqual([
      { scope: 'group', limit: 'concurrent' },
      { scope: 'customer', limit: 'rate' },
      { scope: 'subscriber', limit: 'concurrent' },
    ]);
  });

  it('tells the caller Retry-After only when every gateway was refused by its limits', () => {
    const limited = { status: 503, reason: 'Service Unavailable', retryAfter: 5 };
    expect(stageFailure([limited, limited], true, false)).toMatchObject({ status: 503, retryAfter: 5 });
    const carrier503 = { status: 503, reason: 'Service Unavailable' };
    expect(stageFailure([limited, carrier503], true, false).retryAfter).toBeUndefined();
  });
});

describe('the request towards a peer', () => {
  const rule = (fields: Partial<HeaderRuleData> & Pick<HeaderRuleData, 'action'>): HeaderRuleData => ({
    id: `r-${fields.action}`,
    priority: 100,
    enabled: true,
    direction: null,
    method: null,
    headerName: null,
    headerPattern: null,
    sourceAddress: null,
    callerPattern: null,
    calleePattern: null,
    targetHeader: null,
    matchPattern: null,
    value: null,
    ...fields,
  });
  const request = {
    uri: 'sip:004930555123@127.0.0.9:5060',
    headers: { From: '<sip:+4930111111@example.test>' },
  };
  const caller: Array<[string, string]> = passThroughHeaders([
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-a'],
    ['Contact', '<sip:alice@127.0.0.1:5062>'],
    ['X-Account', 'acme'],
    ['User-Agent', 'Phone/1.0'],
  ]);
  const context = { direction: 'outbound' as const };

  it("passes only the caller's X- headers and User-Agent, and only with topology hiding off", () => {
    expect(caller.map(([name]) => name)).toEqual(['X-Account', 'User-Agent']);
    expect(outgoingRequest(request, [], context, false, caller).headers).toEqual({
      From: '<sip:+4930111111@example.test>',
      'X-Account': 'acme',
      'User-Agent': 'Phone/1.0',
    });
    expect(outgoingRequest(request, [], context, true, caller).headers).toEqual({
      From: '<sip:+4930111111@example.test>',
    });
  });

  it('runs the rules after the scrub, so a rule may add an X- header and rewrite the Request-URI', () => {
    const rules = compileHeaderRules([
      rule({ action: 'add_header', targetHeader: 'X-Trunk', value: 'a', priority: 1 }),
      rule({ action: 'set_ruri_user', matchPattern: '^00', value: '+', priority: 2 }),
    ]);
    expect(outgoingRequest(request, rules, context, true, caller)).toEqual({
      uri: 'sip:+4930555123@127.0.0.9:5060',
      headers: { From: '<sip:+4930111111@example.test>', 'X-Trunk': 'a' },
    });
  });
});
