import { describe, expect, it } from 'vitest';
import type { CaptureSet, ScenarioCapture } from '../../tools/sip-diff/capture.ts';
import { normaliseScenario, splitTopLevel } from '../../tools/sip-diff/normalise.ts';
import { fixture } from './fixtures.ts';

const UAC = 'contract: over UDP > createUAC to a sipp UAS, BYE from the app';

function scenario(set: CaptureSet, name: string): ScenarioCapture {
  const found = set.scenarios.find((s) => s.scenario === name);
  if (!found) throw new Error(`fixture has no ${name}`);
  return found;
}

function message(raw: string, time: number, src = '127.0.0.1:5080', dst = '127.0.0.1:5060') {
  return { time, transport: 'udp' as const, src, dst, raw };
}

const OPTIONS =
  'OPTIONS sip:svc@127.0.0.1:5060 SIP/2.0\r\n' +
  'v: SIP/2.0/UDP 127.0.0.1:5080;rport=5080;branch=z9hG4bK-abc\r\n' +
  'f: <sip:a@127.0.0.1:5080>;tag=t1\r\n' +
  't: <sip:svc@127.0.0.1:5060>\r\n' +
  'i: cid-77@127.0.0.1\r\n' +
  'CSeq: 4711 OPTIONS\r\n' +
  'Contact: <sip:abcdef@127.0.0.1:5080;transport=udp;ob>\r\n' +
  'Supported: timer, 100rel\r\nSupported: path\r\n' +
  'User-Agent: some phone 1.0\r\nDate: Fri, 04 Dec 2026 20:00:00 GMT\r\n' +
  'Content-Length: 0\r\n\r\n';

describe('normaliseScenario', () => {
  it('names the parties by role and replaces what is random: tags, branches, Call-ID, CSeq base, Contact user', () => {
    const n = normaliseScenario({
      scenario: 's',
      roles: { '127.0.0.1:5060': 'server' },
      messages: [message(OPTIONS, 1)],
    });
    const m = n.messages[0]!;
    expect(m.direction).toBe('peer1 -> server');
    expect(m.key).toBe('peer1 -> server OPTIONS');
    expect(m.startLine).toBe('OPTIONS sip:svc@{server}');
    expect(Object.fromEntries(m.headers)).toEqual({
      'Call-ID': ['{call-id}'],
      CSeq: ['+0 OPTIONS'],
      Contact: ['<sip:{user}@{peer1};ob;transport=udp>'],
      Date: ['{present}'],
      From: ['<sip:a@{peer1}>;tag={tag}'],
      Supported: ['100rel, path, timer'],
      To: ['<sip:svc@{server}>'],
      'User-Agent': ['{present}'],
      Via: ['SIP/2.0/UDP {peer1};branch=z9hG4bK{branch};rport={port}'],
    });
  });

  it('counts exact repeats as retransmissions, and numbers CSeq from the sender’s first request', () => {
    const second = OPTIONS.replace('CSeq: 4711', 'CSeq: 4712').replace('z9hG4bK-abc', 'z9hG4bK-def');
    const n = normaliseScenario({
      scenario: 's',
      roles: {},
      messages: [
        message(OPTIONS, 1),
        message(OPTIONS, 1.5),
        message(second, 2),
        message('not sip\r\n\r\n', 3),
      ],
    });
    expect(n.retransmissions).toBe(1);
    expect(n.unparsable).toEqual([
      { direction: 'peer1 -> peer2', startLine: 'not sip', error: expect.any(String) as string },
    ]);
    expect(n.messages.map((m) => m.headers.get('CSeq'))).toEqual([['+0 OPTIONS'], ['+1 OPTIONS']]);
  });

  it('leaves no address, port, tag or Call-ID of the recorded runs in the normalised messages', () => {
    for (const set of [fixture('engine'), fixture('reference')]) {
      const capture = scenario(set, UAC);
      const n = normaliseScenario(capture);
      expect(n.messages.length).toBe(capture.messages.length);
      for (const m of n.messages) {
        const text = [m.startLine, ...[...m.headers.values()].flat(), m.body].join('\n');
        expect(text).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b|tag=(?!\{tag\})|SIPpTag/);
        expect(m.headers.has('Content-Length')).toBe(false);
      }
    }
  });

  it('gives both servers’ runs of the same scenario the same message keys', () => {
    const keys = (set: CaptureSet) => normaliseScenario(scenario(set, UAC)).messages.map((m) => m.key);
    expect(keys(fixture('engine'))).toEqual(keys(fixture('reference')));
    expect(keys(fixture('engine'))).toEqual([
      'server -> peer1 INVITE',
      'peer1 -> server 180 (INVITE)',
      'peer1 -> server 200 (INVITE)',
      'server -> peer1 ACK',
      'server -> peer1 BYE',
      'peer1 -> server 200 (BYE)',
    ]);
  });

  it('names a TCP connection from an ephemeral port after the party whose Via it carries', () => {
    const invite = OPTIONS.replace(/OPTIONS/g, 'INVITE').replace(
      'SIP/2.0/UDP 127.0.0.1:5080',
      'SIP/2.0/TCP 127.0.0.1:5060',
    );
    const n = normaliseScenario({
      scenario: 's',
      roles: { '127.0.0.1:5060': 'server' },
      messages: [{ ...message(invite, 1, '127.0.0.1:40001', '127.0.0.1:7000'), transport: 'tcp' }],
    });
    expect(n.messages[0]!.direction).toBe('server -> peer1');
  });
});

describe('splitTopLevel', () => {
  it('splits at commas outside quotes and angle brackets', () => {
    expect(splitTopLevel('"a, b" <sip:x@y;p=1,2>, <sip:z@w>')).toEqual([
      '"a, b" <sip:x@y;p=1,2>',
      '<sip:z@w>',
    ]);
  });
});
