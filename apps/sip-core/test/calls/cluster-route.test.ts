import { decodeFlowToken, parseNameAddr } from '@switchboard/sip';
import { describe, expect, it } from 'vitest';
import { ClusterRoutes } from '../../src/calls/cluster-route.ts';
import { deviceLegProfile } from '../../src/calls/leg-profile.ts';
import { bindingTarget } from '../../src/calls/plan.ts';
import type { Binding } from '../../src/location/binding.ts';

/** Where a device's leg is sent from each node of a cluster (calls/cluster-route.ts). */

const binding: Binding = {
  aor: 'sip:alice@example.test',
  bindingKey: 'sip:alice@10.0.0.5:5060;transport=tcp',
  subscriberId: 'alice-id',
  contactUri: 'sip:alice@10.0.0.5:5060;transport=tcp',
  receivedAddress: '198.51.100.7',
  receivedPort: 49152,
  transport: 'tcp',
  localSocket: null,
  path: [],
  expiresAt: Date.now() + 60_000,
  userAgent: null,
  instanceId: null,
  regId: null,
  q: null,
  callId: 'register-1',
  cseq: 1,
  pnProvider: null,
  pnPrid: null,
  pnParam: null,
  node: 'sip2',
};
const target = bindingTarget(binding, deviceLegProfile('tcp', 'optional'));
const nodes = [
  { name: 'sip1', host: '10.0.0.11', port: 5060 },
  { name: 'sip2', host: '2001:db8::12', port: 5070 },
];

describe('ClusterRoutes', () => {
  it("sends a device of another node through that node's engine, with the flow in the Route", () => {
    const routed = new ClusterRoutes('sip1', nodes).route(target);
    expect(routed.uri).toBe(binding.contactUri);
    expect(routed.proxy).toBe('sip:[2001:db8::12]:5070;transport=udp');
    const route = parseNameAddr(routed.headers!.Route!, 'Route');
    expect(route.uri.kind === 'sip' && route.uri.lr).toBe(true);
    expect(route.uri.kind === 'sip' && decodeFlowToken(route.uri.user)).toEqual({
      transport: 'tcp',
      address: '198.51.100.7',
      port: 49152,
    });
  });

  it("leaves this node's own devices, and those of a node it does not know, where they registered from", () => {
    expect(new ClusterRoutes('sip2', nodes).route(target)).toBe(target);
    expect(new ClusterRoutes('sip1', [nodes[0]!]).route(target)).toBe(target);
    expect(target.proxy).toBe('sip:198.51.100.7:49152;transport=tcp');
    expect(target.headers?.Route).toBeUndefined();
  });
});
