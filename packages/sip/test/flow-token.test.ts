import { describe, expect, it } from 'vitest';
import { decodeFlowToken, encodeFlowToken } from '../src/proxy/flow-token.ts';
import { parseUri } from '../src/uri/index.ts';

describe('flow tokens (RFC 5626 §5.2)', () => {
  it('round-trip through the user part of a SIP URI, IPv4 and IPv6', () => {
    for (const flow of [
      { transport: 'tcp', address: '198.51.100.7', port: 49152 },
      { transport: 'wss', address: '2001:db8::1', port: 443 },
    ] as const) {
      const uri = parseUri(`sip:${encodeFlowToken(flow)}@192.0.2.1:5060;lr`);
      expect(uri.kind === 'sip' && decodeFlowToken(uri.user)).toEqual(flow);
    }
  });

  it.each([
    ['no user part', undefined],
    ['not ours', 'alice'],
    ['not base64url of three fields', 'flow-%%%'],
    ['an unknown transport', `flow-${Buffer.from('sctp 10.0.0.1 5060').toString('base64url')}`],
    [
      'a host name instead of an address',
      `flow-${Buffer.from('udp evil.example 5060').toString('base64url')}`,
    ],
    ['a port out of range', `flow-${Buffer.from('udp 10.0.0.1 70000').toString('base64url')}`],
    ['extra fields', `flow-${Buffer.from('udp 10.0.0.1 5060 x').toString('base64url')}`],
  ])('a token with %s names no flow', (_what, user) => {
    expect(decodeFlowToken(user)).toBeUndefined();
  });
});
