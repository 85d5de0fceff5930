import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, callFields, DOMAIN, startCallStack } from './support/stack.ts';

/**
 * Voicemail settings of #22 through engine + sip-core + rtpengine + PostgreSQL with sipp as the phones:
 * bob's box sends unsolicited MWI, so his desk phone (sipp, registered, never subscribing) gets a
 * message-summary NOTIFY saying one new message waits as soon as a message row appears; and bob's domain
 * has its own voicemail access code (`*555`): dialling it reaches his box, the platform's `*98` does not.
 */

const SCENARIOS = fileURLToPath(new URL('../sipp/voicemail/', import.meta.url));
let stack: CallStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sipcore-vm-mwi-'));
  stack = await startCallStack(
    { bob: 'bob-secret' },
    {},
    async (db, tenant, subscribers) => {
      const bob = subscribers.get('bob') ?? '';
      await db.db.prisma.voicemailBox.create({ data: { subscriberId: bob, unsolicitedMwi: true } });
      await db.db.prisma.domain.update({
        where: { id: tenant.domainId },
        data: { voicemailAccessCode: '*555' },
      });
    },
    { voicemail: { dataDir } },
  );
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describeOnEngine(
  onEngine('voicemail: unsolicited MWI and the domain access code'),
  { timeout: 120_000 },
  () => {
    it('a registered phone that never subscribed gets a NOTIFY saying a message waits', async () => {
      const bobId = stack.subscribers.get('bob') ?? '';
      // The phone registers, then listens on the same port (a NOTIFY out of any dialog is a new call to sipp).
      const port = await allocatePort();
      const register = runSipp({
        scenario: 'register.xml',
        port,
        remote: stack.sipAddress,
        fields: callFields('bob', 'bob-secret', DOMAIN).slice(0, 3),
        authUri: DOMAIN,
        timeoutS: 20,
      });
      expectSippOk(await register.done, 'REGISTER');
      expect(stack.sipCore.location.lookup(`sip:bob@${DOMAIN}`)).toHaveLength(1);
      const phone = runSipp({ scenario: join(SCENARIOS, 'uas-mwi-notify.xml'), port, timeoutS: 40 });
      await phone.listening();
      // A message arrives (as a deposit or the portal would leave it): the change feed tells sip-core.
      await stack.testDb.db.prisma.voicemailMessage.create({
        data: {
          subscriberId: bobId,
          customerId: stack.tenant.customerId,
          caller: `sip:alice@${DOMAIN}`,
          file: 'none.wav',
          durationMs: 3000,
        },
      });
      expectSippOk(await phone.done, 'desk phone');
    });

    it("the domain's access code reaches the box; the platform's no longer does in that domain", async () => {
      const box = runSipp({
        scenario: 'uac-call-bye.xml',
        port: await allocatePort(),
        remote: stack.sipAddress,
        fields: callFields('bob', 'bob-secret', '*555'),
        authUri: DOMAIN,
        timeoutS: 30,
      });
      expectSippOk(await box.done, '*555 caller');
      const platform = runSipp({
        scenario: 'uac-call-rejected.xml',
        port: await allocatePort(),
        remote: stack.sipAddress,
        fields: callFields('bob', 'bob-secret', '*98'),
        authUri: DOMAIN,
        timeoutS: 30,
      });
      expectSippOk(await platform.done, '*98 caller');
    });
  },
);
