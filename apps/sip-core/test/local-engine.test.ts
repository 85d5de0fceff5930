import { parseMessage, type SipRequest } from '@switchboard/sip';
import { describe, expect, it } from 'vitest';
import { gateInvites, type LocalEngineRequest, type LocalResponse } from '../src/sip/local-engine.ts';
import type { IncomingRequest } from '../src/sip/request.ts';

/**
 * The engine's handler of new INVITEs in sip-core's process: which ones the gate (the INVITE chain up
 * to the caller's identity) sees, and which go straight on to the app's INVITE chain.
 */

function invite(extra: string[] = [], from = '<sip:alice@example.test>;tag=1'): SipRequest {
  const text = [
    'INVITE sip:bob@example.test SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKgate',
    `From: ${from}`,
    'To: <sip:bob@example.test>',
    'Call-ID: gate-1',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@192.0.2.10:5060>',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(text) as SipRequest;
}

/** A hand-over of `request` that notes whether it was passed on. */
function handOver(request: SipRequest): LocalEngineRequest & { passed: number } {
  return {
    request,
    source: { address: '192.0.2.10', port: 5060, transport: 'udp' },
    receivedOn: { host: '127.0.0.1', port: 5060 },
    respond: () => {},
    passed: 0,
    passOn() {
      this.passed += 1;
    },
  };
}

describe('gateInvites', () => {
  const gated: IncomingRequest[] = [];
  const gate = (req: IncomingRequest, _res: LocalResponse): void => {
    gated.push(req);
  };
  const handler = gateInvites(gate, (domain) => domain === 'pbx.example.test');

  it('runs the gate on an INVITE without credentials, on the engine’s parsed message', () => {
    gated.length = 0;
    const local = handOver(invite());
    handler(local);
    expect(local.passed).toBe(0);
    expect(gated).toHaveLength(1);
    expect(gated[0]?.message).toBe(local.request);
    expect(gated[0]?.get('call-id')).toBe('gate-1');
  });

  it('passes on an INVITE with credentials without running the gate (its digest is checked once, in the app)', () => {
    gated.length = 0;
    const local = handOver(invite(['Proxy-Authorization: Digest username="alice", realm="example.test"']));
    handler(local);
    expect(local.passed).toBe(1);
    expect(gated).toEqual([]);
  });

  it("passes on a fronted PBX's phone's INVITE: its PBX, not our digest, authenticates it", () => {
    gated.length = 0;
    const local = handOver(invite([], '<sip:100@pbx.example.test>;tag=1'));
    handler(local);
    expect(local.passed).toBe(1);
    expect(gated).toEqual([]);
  });
});
