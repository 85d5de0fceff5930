import type { Explanation } from './explain.ts';

/**
 * Why the engine and drachtio-server v0.9.4 differ on the wire where they do. docs/engine.md's compatibility
 * table carries the same list in prose; the differential report links each difference to its entry here.
 */

const withoutRport = (v: string) => v.replace(/;rport(=\{port\})?/g, '').replace(/;received=\{ip\}/g, '');
const withoutTransport = (v: string) => v.replace(/;transport=[a-z]+/gi, '');

export const EXPLANATIONS: readonly Explanation[] = [
  {
    id: 'trying-delay',
    verdict: 'intended',
    reason:
      'The engine sends 100 Trying to an INVITE only when the app has not answered it within 200 ms ' +
      '(`tryingDelayMs`), as RFC 3261 §17.2.1 allows ("unless it knows that the TU will generate a provisional ' +
      'or final response within 200 ms"); drachtio-server sends it at once. A fast app therefore shows no 100, ' +
      'and a 100 may come before or after the first response of another leg.',
    // sent by the server under test (the upstream test bed names it drachtio-sut / drachtio-uas)
    match: {
      kind: ['missing-message', 'extra-message'],
      message: /^(server|drachtio-sut|drachtio-uas) -> \S+ 100 \(INVITE\)$/,
    },
  },
  {
    id: 'via-rport',
    verdict: 'harmless',
    reason:
      'drachtio-server (sofia-sip) writes `rport=<port>` into the top Via of every request it receives, asked ' +
      'or not, and asks for rport on its own Via over UDP only; the engine stamps `rport` when the request ' +
      'asked for it (RFC 3581 §4) and asks for it on every transport. Responses still reach the same address.',
    match: { header: 'Via', equalAfter: withoutRport },
  },
  {
    id: 'to-uri-parameters',
    verdict: 'intended',
    reason:
      'When an app gives a bare Request-URI as To (drachtio-srf does for `createUAC(uri)` and `request(uri)`), ' +
      'drachtio-server (sofia-sip) reads its parameters (`;transport=udp`) as To header parameters and writes ' +
      '`<sip:b@h>;transport=udp`; the engine keeps the URI whole, `<sip:b@h;transport=udp>`. Both name the same ' +
      'user; the far end echoes whichever it got, so the From of its in-dialog requests differs the same way.',
    match: { kind: ['header'], header: /^(To|From)$/, equalAfter: withoutTransport },
  },
  {
    id: 'dialog-contact',
    verdict: 'intended',
    reason:
      'The engine writes Contact into every provisional response that creates an early dialog (RFC 3261 ' +
      '§12.1.1: a response that establishes a dialog MUST carry Contact) and into NOTIFY (a target refresh ' +
      'request, RFC 6665 §4.1.2.2 and §4.2.2 require Contact); drachtio-server leaves it out when the app did.',
    match: {
      kind: ['header'],
      header: 'Contact',
      message: /( 1\d\d \(INVITE\)| NOTIFY)$/,
      reference: /^\(absent\)$/,
    },
  },
  {
    id: 'max-forwards-forwarded',
    verdict: 'intended',
    reason:
      'Forwarding a request as a proxy (ACK and BYE of a Record-Routed call), the engine decrements ' +
      'Max-Forwards (RFC 3261 §16.6 step 3); drachtio-server passes on the value it received, or none.',
    match: { kind: ['header'], header: 'Max-Forwards', engine: /^69$/, reference: /^(70|\(absent\))$/ },
  },
  {
    id: 'max-forwards-generated',
    verdict: 'intended',
    reason:
      'The CANCEL and the ACK for a non-2xx that the engine builds carry Max-Forwards: 70, as every request a ' +
      'UAC creates must (RFC 3261 §8.1.1.6); drachtio-server (sofia-sip) builds them without it.',
    match: { kind: ['header'], header: 'Max-Forwards', engine: /^70$/, reference: /^\(absent\)$/ },
  },
  {
    id: 'ack-non-2xx-uri',
    verdict: 'intended',
    reason:
      'The ACK for a non-2xx final response of a proxied branch carries the Request-URI of the INVITE it ' +
      'acknowledges, as RFC 3261 §17.1.1.3 requires; drachtio-server writes the next hop (`sip:host:port`).',
    match: {
      kind: ['start-line'],
      message: / ACK$/,
      engine: /^ACK sip:[^@\s]+@/,
      reference: /^ACK sip:\{[^}]+\}$/,
    },
  },
  {
    id: 'ack-target-refresh',
    verdict: 'intended',
    reason:
      'After a 2xx to a re-INVITE whose Contact changed the remote target, the engine sends the ACK to the new ' +
      'target (RFC 3261 §12.2.1.2, §13.2.2.4); drachtio-server sends it to the target from before the re-INVITE.',
    match: {
      kind: ['start-line'],
      message: / ACK$/,
      engine: /^ACK sip:\{[^}]+\}/,
      reference: /^ACK sip:[^@\s]+@/,
    },
  },
  {
    id: 'ack-cancelled-branch',
    verdict: 'intended',
    reason:
      'In a simultaneous proxy fork, drachtio-server v0.9.4 does not ACK the 487 of the branch it cancelled, so ' +
      'that far end retransmits the 487 and its scenario fails (the contract test "proxyRequest simultaneous" ' +
      'fails against drachtio-server for this reason); the engine ACKs it (RFC 3261 §17.1.1.3).',
    match: { kind: ['extra-message'], message: /^server -> \S+ ACK$/, scenario: /proxyRequest simultaneous/ },
  },
  {
    id: 'final-timeout',
    verdict: 'intended',
    reason:
      "drachtio-server v0.9.4 takes `proxyRequest`'s `finalTimeout` and never uses it (its `addProxy` sets only " +
      'the provisional timeout), so a branch that rings is never cancelled and the next destination never ' +
      'tried; the engine cancels it when `finalTimeout` runs out, as drachtio-srf documents the option. The ' +
      'contract test "finalTimeout cancels a ringing branch" therefore fails against drachtio-server, and the ' +
      "CANCEL, the second branch and the call that follows exist only in the engine's run.",
    match: { kind: ['extra-message', 'extra-flow'], scenario: /proxyRequest > finalTimeout/ },
  },
  {
    id: 'app-gone-bye',
    verdict: 'intended',
    reason:
      'When an app disconnects with calls up, the engine ends them: ACK for a 2xx the app had not ACKed yet, ' +
      'then BYE to the far end (docs/engine.md, "app disconnects mid-call"); drachtio-server leaves them up ' +
      'until the far end hangs up, and leaves such a 2xx without ACK (RFC 3261 §13.2.2.4 wants one). ' +
      "drachtio-srf's own tests disconnect right after their assertions, so these " +
      'BYEs appear there. Between two engines that both end the same call the BYEs cross: the one that finds ' +
      'the call gone is answered 481, or 503 when it reaches the app just as the app leaves.',
    match: {
      kind: ['extra-message', 'extra-flow'],
      message: /(-> \S+ (BYE|ACK)|\S+ 200 \(BYE\)|\S+ (481|503) \(BYE\).*)$/,
    },
  },
  {
    id: 'reason-cause',
    verdict: 'harmless',
    reason:
      'The BYE the engine sends for a 2xx never ACKed says `Reason: SIP;text="ACK timeout"`; drachtio-server adds ' +
      '`cause=200`. RFC 3326 makes every Reason parameter optional; the text is the same.',
    match: { kind: ['header'], header: 'Reason', equalAfter: (v) => v.replace(/;cause=\d+/, '') },
  },
];

/**
 * Tests that fail against drachtio-server v0.9.4 and pass against the engine, with the explanation that says
 * why. Any other test failing on one server only makes the differential check fail.
 */
export const REFERENCE_FAILURES: Readonly<Record<string, string>> = {
  'over UDP > proxyRequest simultaneous: the losing fork is cancelled': 'ack-cancelled-branch',
  'over TCP > proxyRequest simultaneous: the losing fork is cancelled': 'ack-cancelled-branch',
  'proxyRequest > finalTimeout cancels a ringing branch and the next one answers; cdr events as drachtio-server writes them':
    'final-timeout',
};
