import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onEngine, skipOnEngine } from '../support/engine.ts';
import { rawRequest, udpPeer } from '../support/raw-sip.ts';
import {
  aliceCallsBob,
  type CallStack,
  closeCallStack,
  type LocalHandOvers,
  registerWithSipp,
  startCallStack,
} from './support/stack.ts';

/**
 * Calls with REGISTER and INVITE handed over by our engine in sip-core's process, as the all-in-one
 * launcher runs them: the 407 that starts a call, and the INVITE chain's other refusals before the
 * caller's identity, are answered there (sip/local-engine.ts `gateInvites`); the INVITE with
 * credentials goes on to the app and becomes the call, with media and one CDR.
 */

const handOvers: LocalHandOvers = { outcomes: [] };
let stack: CallStack;
let bobPort: number;

/** The outcomes of the INVITEs handed over since `from`. */
const inviteOutcomes = (from: number) =>
  handOvers.outcomes
    .slice(from)
    .filter((o) => o.method === 'INVITE')
    .map((o) => o.outcome);

const UNSUPPORTED = "our engine's in-process hand-over";

describe.skipIf(skipOnEngine(UNSUPPORTED))(
  onEngine('calls with INVITE challenged in the engine process', UNSUPPORTED),
  () => {
    beforeAll(async () => {
      stack = await startCallStack(
        { alice: 'alice-secret', bob: 'bob-secret' },
        { ringTimeout: 2 },
        undefined,
        { localEngine: handOvers },
      );
      bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
    }, 60_000);

    afterAll(() => closeCallStack(stack), 30_000);

    it('registers through the local handler (401, then 200)', () => {
      const registers = handOvers.outcomes.filter((o) => o.method === 'REGISTER').map((o) => o.outcome);
      expect(registers).toEqual([401, 200]);
    });

    it('answers the first INVITE 407 locally, passes the authenticated one on: the call completes', async () => {
      const from = handOvers.outcomes.length;
      const cdr = await aliceCallsBob(stack, bobPort, 'uac-call-bye.xml', 'uas-answer.xml');
      expect(cdr).toMatchObject({
        direction: 'internal',
        disposition: 'answered',
        sipCode: 200,
        callerSubscriberId: stack.subscribers.get('alice'),
        calleeSubscriberId: stack.subscribers.get('bob'),
      });
      expect(cdr.mediaStats).toBeTypeOf('object');
      // Only the new INVITEs are handed over: the ACK, the BYE and the B leg's messages are dialog traffic.
      expect(inviteOutcomes(from)).toEqual([407, 'passed']);
    });

    it('a caller cancelling while it rings cancels the passed-on call as before', async () => {
      const from = handOvers.outcomes.length;
      const cdr = await aliceCallsBob(stack, bobPort, 'uac-call-cancel.xml', 'uas-ring.xml');
      expect(cdr).toMatchObject({ disposition: 'cancelled', sipCode: 487 });
      expect(inviteOutcomes(from)).toEqual([407, 'passed']);
    });

    it('refuses an INVITE from a domain we do not serve locally, with no CDR', async () => {
      const from = handOvers.outcomes.length;
      const cdrsBefore = await stack.testDb.db.prisma.cdr.count();
      const port = Number(stack.sipAddress.split(':')[1]);
      const peer = await udpPeer('127.0.0.1', port);
      try {
        const callId = `foreign-${Date.now()}`;
        await peer.send(
          rawRequest({
            method: 'INVITE',
            transport: 'UDP',
            domain: 'elsewhere.test',
            user: 'mallory',
            callId,
            branch: `z9hG4bK${callId}`,
            peer,
          }),
        );
        await peer.waitFor(1);
        expect(peer.received.find((r) => !/^SIP\/2\.0 1/.test(r))).toMatch(/^SIP\/2\.0 403 /);
      } finally {
        peer.close();
      }
      expect(inviteOutcomes(from)).toEqual([403]);
      expect(await stack.testDb.db.prisma.cdr.count()).toBe(cdrsBefore);
    });
  },
);
