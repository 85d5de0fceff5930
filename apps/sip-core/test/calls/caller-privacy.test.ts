import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ActiveCallInfo } from '../../src/calls/call-types.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
} from './support/stack.ts';

/**
 * Caller privacy towards the callee's devices: alice has CLIR, carol has not; bob answers (his sipp
 * checks what From he is shown); dave forwards unconditionally to bob, erik to a PSTN number. A peer
 * on 127.0.0.2 (a configured trusted source) calls for +4915100000 with a Privacy header.
 */

let stack: CallStack;
let bobPort: number;
let gateway: number;
/** The gateway's own address: its IP host makes every request from it a peer's, so not the phones'. */
const GATEWAY_IP = '127.0.0.9';
const PEER_IP = '127.0.0.2';

beforeAll(async () => {
  gateway = await allocatePort();
  stack = await startCallStack(
    {
      alice: 'alice-secret',
      bob: 'bob-secret',
      carol: 'carol-secret',
      dave: 'dave-secret',
      erik: 'erik-secret',
    },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const id = (name: string): string => subscribers.get(name) ?? '';
      for (const [name, subscriberNumber] of [
        ['alice', '111111'],
        ['bob', '222222'],
        ['carol', '333333'],
        ['dave', '444444'],
        ['erik', '555555'],
      ] as const)
        await addPrimaryNumber(prisma, id(name), `+4930${subscriberNumber}`);
      await prisma.subscriber.update({ where: { id: id('alice') }, data: { clir: true } });
      await prisma.domain.update({ where: { id: tenant.domainId }, data: { countryCode: '49' } });
      await addCarrier(prisma, [{ name: 'gw', host: GATEWAY_IP, port: gateway, priority: 1 }]);
      const forward = (name: string, kind: 'uri' | 'number', destination: string) =>
        prisma.callForward.create({
          data: {
            subscriberId: id(name),
            type: 'cfu',
            destinations: { create: [{ kind, destination, position: 0 }] },
          },
        });
      await forward('dave', 'uri', `sip:bob@${DOMAIN}`);
      await forward('erik', 'number', '+4930999888');
    },
    {
      trustedSources: [PEER_IP],
    },
  );
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 90_000);

afterAll(() => closeCallStack(stack), 30_000);

/** What `activeCalls()` reported of the last subscriber call while it was answered. */
let live: ActiveCallInfo | undefined;

/** `caller` (a subscriber) calls `callee` with a display name (`uac`); bob answers with `uas`. */
async function subscriberCall(caller: string, callee: string, uas: string, uac = 'uac-call-named.xml') {
  const before = await stack.testDb.db.prisma.cdr.count();
  live = undefined;
  // The caller's scenario holds the answered call for 500 ms before its BYE: sampled meanwhile.
  const sampler = setInterval(() => {
    live = stack.sipCore.activeCalls().find((c) => c.state === 'answered') ?? live;
  }, 20);
  const bob = runSipp({ scenario: uas, port: bobPort, timeoutS: 20 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const run = runSipp({
    scenario: uac,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields(caller, `${caller}-secret`, callee),
    authUri: `${callee}@${DOMAIN}`,
    timeoutS: 20,
  });
  const [a, b] = await Promise.all([run.done, bob.done]).finally(() => clearInterval(sampler));
  expectSippOk(a, caller);
  expectSippOk(b, `bob (${uas})`);
  return completedCdr(stack, before);
}

/**
 * The peer calls `callee` for +4915100000 with `Privacy: <privacy>` (and the caller asserted);
 * `answerer` answers: bob's registered phone, or the PSTN gateway a forward reaches.
 */
async function peerCall(callee: string, privacy: string, answerer: { scenario: string; gateway?: boolean }) {
  const before = await stack.testDb.db.prisma.cdr.count();
  const far = runSipp({
    scenario: answerer.scenario,
    port: answerer.gateway ? gateway : bobPort,
    localIp: answerer.gateway ? GATEWAY_IP : undefined,
    timeoutS: 20,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const peer = runSipp({
    scenario: 'uac-peer-call-private.xml',
    port: await allocatePort(),
    localIp: PEER_IP,
    remote: stack.sipAddress,
    fields: ['+4915100000', 'unused', DOMAIN, callee, privacy],
    timeoutS: 20,
  });
  const [p, f] = await Promise.all([peer.done, far.done]);
  expectSippOk(p, 'peer');
  expectSippOk(f, answerer.scenario);
  return completedCdr(stack, before);
}

describeOnEngine(onEngine('CLIR on calls between subscribers'), () => {
  it("alice (CLIR) calls bob: bob's phone gets the anonymous From, neither her name nor her number; the CDR keeps her", async () => {
    const cdr = await subscriberCall('alice', 'bob', 'uas-answer-anonymous.xml');
    expect(cdr).toMatchObject({
      direction: 'internal',
      disposition: 'answered',
      callerSubscriberId: stack.subscribers.get('alice'),
      callerDialled: `sip:alice@${DOMAIN}`,
      // The identity withheld from bob, known to the operator; the row says it was withheld.
      callerRouted: `sip:alice@${DOMAIN}`,
      callerWithheld: true,
      calleeSubscriberId: stack.subscribers.get('bob'),
      calleeRouted: `sip:bob@${DOMAIN}`,
    });
    // The live state says so too, for the API's calls list.
    expect(live).toMatchObject({ callerSubscriberId: stack.subscribers.get('alice'), callerWithheld: true });
  }, 60_000);

  it('alice (CLIR) puts bob on hold: the re-INVITE reaching him is as anonymous as the INVITE', async () => {
    const cdr = await subscriberCall(
      'alice',
      'bob',
      'uas-answer-anonymous-hold.xml',
      'uac-call-named-hold.xml',
    );
    expect(cdr).toMatchObject({
      disposition: 'answered',
      callerSubscriberId: stack.subscribers.get('alice'),
      callerWithheld: true,
    });
  }, 60_000);

  it("alice (CLIR) calls dave's number, forwarded to bob: the forward keeps her anonymous", async () => {
    const cdr = await subscriberCall('alice', '030444444', 'uas-answer-anonymous.xml');
    expect(cdr).toMatchObject({
      direction: 'internal',
      disposition: 'answered',
      callerSubscriberId: stack.subscribers.get('alice'),
      calleeRouted: `sip:bob@${DOMAIN}`,
      forwardedFrom: `sip:dave@${DOMAIN}`,
      forwardType: 'cfu',
      callerWithheld: true,
    });
  }, 60_000);

  it('carol (no CLIR) calls bob: he is shown her username and display name', async () => {
    const cdr = await subscriberCall('carol', 'bob', 'uas-answer-named.xml');
    expect(cdr).toMatchObject({
      direction: 'internal',
      disposition: 'answered',
      callerSubscriberId: stack.subscribers.get('carol'),
      callerRouted: `sip:carol@${DOMAIN}`,
      callerWithheld: false,
    });
    expect(live).toMatchObject({ callerSubscriberId: stack.subscribers.get('carol'), callerWithheld: false });
  }, 60_000);
});

describeOnEngine(onEngine("a peer's Privacy header (RFC 3323)"), () => {
  for (const privacy of ['id', 'header'])
    it(`Privacy: ${privacy} to bob's DID: bob's phone gets the anonymous From; the CDR keeps the caller`, async () => {
      const cdr = await peerCall('+4930222222', privacy, { scenario: 'uas-answer-anonymous.xml' });
      expect(cdr).toMatchObject({
        direction: 'inbound',
        disposition: 'answered',
        callerDialled: '+4915100000',
        callerRouted: '+4915100000',
        calleeSubscriberId: stack.subscribers.get('bob'),
        callerWithheld: true,
      });
    }, 60_000);

  it("Privacy: none to bob's DID: the caller is shown, and the CDR does not mark it withheld", async () => {
    const cdr = await peerCall('+4930222222', 'none', { scenario: 'uas-answer.xml' });
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      callerDialled: '+4915100000',
      calleeSubscriberId: stack.subscribers.get('bob'),
      callerWithheld: false,
    });
  }, 60_000);

  it("Privacy: user to erik's DID, forwarded to the PSTN: the gateway gets the caller only asserted, with Privacy: id", async () => {
    const cdr = await peerCall('+4930555555', 'user', {
      scenario: 'uas-gateway-withheld-peer.xml',
      gateway: true,
    });
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      callerDialled: '+4915100000',
      callerRouted: '+4915100000',
      forwardedFrom: `sip:erik@${DOMAIN}`,
      forwardType: 'cfu',
      callerWithheld: true,
    });
  }, 60_000);
});
