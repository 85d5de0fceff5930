import type { Binding } from '../../src/location/binding.ts';

/** A binding with plausible defaults; tests override what they look at. */
export function makeBinding(overrides: Partial<Binding> & Pick<Binding, 'aor' | 'subscriberId'>): Binding {
  return {
    bindingKey: overrides.contactUri ?? 'sip:alice@192.0.2.10:5060',
    contactUri: 'sip:alice@192.0.2.10:5060',
    receivedAddress: '192.0.2.10',
    receivedPort: 5060,
    transport: 'udp',
    localSocket: null,
    path: [],
    expiresAt: Date.now() + 3_600_000,
    userAgent: 'test-phone',
    instanceId: null,
    regId: null,
    q: null,
    callId: 'call-1',
    cseq: 1,
    pnProvider: null,
    pnPrid: null,
    pnParam: null,
    node: 'node-a',
    ...overrides,
  };
}
