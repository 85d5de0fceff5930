import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sipHa1 } from '@switchboard/db';
import { FakeApns, makeApnsKey, makeTestCertificate } from '@switchboard/push/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR, type Platform, startPlatform } from './platform.ts';

/**
 * The admin's "Push devices" page against the whole platform: its APNs endpoint is a local stand-in
 * that checks the provider token, headers and path the way Apple's service does, and the operator's
 * "Send test push" reaches it through the API. The operator uploads, replaces and deletes the
 * domain's APNs credentials on the same page; the key is never shown back.
 */
const DOMAIN = 'push.example.test';
const TEAM = 'ABCDE12345';
const BUNDLE = 'com.example.phone';
const DEVICE_TOKEN = 'c0ffee'.padEnd(64, '1');

let platform: Platform;
let page: Page;
let apns: FakeApns;
let certDir: string;
let apnsKey: ReturnType<typeof makeApnsKey>;

beforeAll(async () => {
  const certificate = makeTestCertificate();
  apnsKey = makeApnsKey();
  apns = await new FakeApns(certificate, {
    publicKey: apnsKey.publicKey,
    teamId: TEAM,
    keyId: 'KEY1234567',
    topic: `${BUNDLE}.voip`,
  }).listen();
  certDir = await mkdtemp(join(tmpdir(), 'sb-web-push-'));
  const caFile = join(certDir, 'ca.pem');
  await writeFile(caFile, certificate.cert);
  platform = await startPlatform('push', {
    PUSH_APNS_URL: apns.url,
    PUSH_CREDENTIALS_KEY: randomBytes(32).toString('hex'),
    // The launcher trusts the stand-in's throwaway certificate as it would Apple's.
    NODE_EXTRA_CA_CERTS: caFile,
  });
  page = platform.page;
  page.setDefaultTimeout(20_000);

  const { prisma } = platform;
  const customer = await prisma.customer.create({ data: { name: 'Mobile Ltd' } });
  const domain = await prisma.domain.create({ data: { name: DOMAIN } });
  const subscriber = await prisma.subscriber.create({
    data: {
      customerId: customer.id,
      domainId: domain.id,
      username: 'mia',
      ...sipHa1('mia', DOMAIN, 'mia password'),
    },
  });
  // The binding an iPhone app leaves when it registers with RFC 8599 parameters.
  await prisma.registration.create({
    data: {
      subscriberId: subscriber.id,
      aor: `sip:mia@${DOMAIN}`,
      bindingKey: `pn:apns;${DEVICE_TOKEN};${TEAM}.${BUNDLE}.voip`,
      contactUri: `sip:mia@192.0.2.7:50322;pn-provider=apns;pn-prid=${DEVICE_TOKEN};pn-param=${TEAM}.${BUNDLE}.voip`,
      receivedAddress: '192.0.2.7',
      receivedPort: 50322,
      transport: 'tcp',
      expiresAt: new Date(Date.now() + 3_600_000),
      callId: 'push-e2e-register',
      cseq: 1,
      pnProvider: 'apns',
      pnPrid: DEVICE_TOKEN,
      pnParam: `${TEAM}.${BUNDLE}.voip`,
      node: 'elsewhere',
    },
  });
});

afterAll(async () => {
  await platform?.close();
  await apns?.close();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

describe('push devices', () => {
  it('uploads APNs credentials, lists them without the key, and replaces them', async () => {
    await page.goto(`${platform.baseUrl}/login`);
    await page.getByLabel('E-mail').fill(OPERATOR.email);
    await page.getByLabel('Password', { exact: true }).fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Push devices' }).click();
    await page.getByRole('heading', { level: 1, name: 'Push devices' }).waitFor();

    const upload = page.getByRole('form', { name: 'Upload push credentials' });
    await upload.getByLabel('Domain').selectOption({ label: DOMAIN });
    await upload.getByLabel('Service').selectOption('apns');
    // First a key that is not the one APNs knows (a wrong upload the operator then replaces).
    const wrongKey = makeApnsKey().privateKey;
    await upload.getByLabel('Team ID').fill(TEAM);
    await upload.getByLabel('Key ID').fill('KEY0000000');
    await upload.getByLabel('Bundle ID').fill(BUNDLE);
    await upload.getByLabel('APNs environment').selectOption('sandbox');
    await upload.getByLabel('Key file (.p8)').setInputFiles({
      name: 'AuthKey_KEY0000000.p8',
      mimeType: 'text/plain',
      buffer: Buffer.from(wrongKey),
    });
    await expect.poll(() => upload.getByLabel('Private key').inputValue()).toContain('BEGIN PRIVATE KEY');
    await upload.getByRole('button', { name: 'Upload credentials' }).click();

    const credentials = page.getByRole('table', { name: 'Push credentials' });
    const row = credentials.getByRole('row').filter({ hasText: DOMAIN });
    await row.getByText(`Team ID ${TEAM}, Key ID KEY0000000, Bundle ID ${BUNDLE}, APNs sandbox`).waitFor();
    // The key went in and does not come back: not in the page, not in the API's answer.
    const keyBody = (pem: string) => pem.split('\n')[1]!;
    expect(await page.content()).not.toContain(keyBody(wrongKey));
    const stored = await platform.prisma.pushCredential.findFirstOrThrow({ where: { provider: 'apns' } });
    expect(JSON.stringify(stored.settings)).not.toContain(keyBody(wrongKey));
    expect(stored.sealedSecret).not.toContain(keyBody(wrongKey));

    await row.getByRole('button', { name: `Replace APNs (iOS) credentials of ${DOMAIN}` }).click();
    const replace = page.getByRole('form', { name: `Replace APNs (iOS) credentials of ${DOMAIN}` });
    await replace.getByLabel('Team ID').fill(TEAM);
    await replace.getByLabel('Key ID').fill('KEY1234567');
    await replace.getByLabel('Bundle ID').fill(BUNDLE);
    // Pasted this time instead of picked.
    await replace.getByLabel('Private key').fill(apnsKey.privateKey);
    await replace.getByRole('button', { name: 'Replace credentials' }).click();
    await row.getByText(`Team ID ${TEAM}, Key ID KEY1234567, Bundle ID ${BUNDLE}, APNs production`).waitFor();
    expect(await platform.prisma.pushCredential.count()).toBe(1);
    expect(await page.content()).not.toContain(keyBody(apnsKey.privateKey));
    await platform.screenshot(page, 'push-credentials-desktop');
  });

  it('lists a push binding and sends it a test push through APNs', async () => {
    const table = page.getByRole('table', { name: 'Push devices' });
    const row = table.getByRole('row').filter({ hasText: `sip:mia@${DOMAIN}` });
    await row.getByRole('cell', { name: `…${DEVICE_TOKEN.slice(-8)}`, exact: true }).waitFor();
    await row.getByRole('cell', { name: 'never', exact: true }).waitFor();

    const before = apns.received.length;
    await row
      .getByRole('button', { name: `Send test push to sip:mia@${DOMAIN} …${DEVICE_TOKEN.slice(-8)}` })
      .click();
    const status = page.getByRole('status').filter({ hasText: `Test push to sip:mia@${DOMAIN}` });
    await status.getByText('delivered', { exact: true }).waitFor();

    // Exactly one push reached the service, as Apple's protocol has it, and says it is a test.
    expect(apns.received.length).toBe(before + 1);
    const push = apns.received[before]!;
    expect(push.problem).toBeUndefined();
    expect(push.path).toBe(`/3/device/${DEVICE_TOKEN}`);
    expect(push.headers['apns-push-type']).toBe('voip');
    expect(JSON.parse(push.body)).toMatchObject({ type: 'test' });
    // The table shows the result the push left on the binding.
    await row.getByRole('cell', { name: 'delivered', exact: true }).waitFor();
    await platform.screenshot(page, 'push-devices-desktop');
  });

  it('says what APNs answered when the app is gone, and the binding disappears', async () => {
    apns.answers.set(DEVICE_TOKEN, { status: 410, body: { reason: 'Unregistered' } });
    const row = page
      .getByRole('table', { name: 'Push devices' })
      .getByRole('row')
      .filter({ hasText: `sip:mia@${DOMAIN}` });
    await row.getByRole('button', { name: /^Send test push to / }).click();
    await page
      .getByRole('status')
      .getByText(/the app is gone from the device; the binding was removed \(HTTP 410, Unregistered\)/)
      .waitFor();
    await page.getByText('No device is registered for push.').waitFor();
    expect(await platform.prisma.registration.count({ where: { pnPrid: DEVICE_TOKEN } })).toBe(0);
  });

  it('deletes the credentials: a test push then fails for want of them', async () => {
    await platform.prisma.registration.create({
      data: {
        subscriberId: (await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'mia' } })).id,
        aor: `sip:mia@${DOMAIN}`,
        bindingKey: `pn:apns;${DEVICE_TOKEN};${TEAM}.${BUNDLE}.voip`,
        contactUri: `sip:mia@192.0.2.7:50322;pn-provider=apns;pn-prid=${DEVICE_TOKEN};pn-param=${TEAM}.${BUNDLE}.voip`,
        receivedAddress: '192.0.2.7',
        receivedPort: 50322,
        transport: 'tcp',
        expiresAt: new Date(Date.now() + 3_600_000),
        callId: 'push-e2e-register-2',
        cseq: 1,
        pnProvider: 'apns',
        pnPrid: DEVICE_TOKEN,
        pnParam: `${TEAM}.${BUNDLE}.voip`,
        node: 'elsewhere',
      },
    });
    apns.answers.delete(DEVICE_TOKEN);
    const credentials = page.getByRole('table', { name: 'Push credentials' });
    await credentials
      .getByRole('row')
      .filter({ hasText: DOMAIN })
      .getByRole('button', { name: `Delete APNs (iOS) credentials of ${DOMAIN}` })
      .click();
    await page.getByText('No push credentials uploaded.').waitFor();
    expect(await platform.prisma.pushCredential.count()).toBe(0);

    await page.reload();
    const before = apns.received.length;
    await page
      .getByRole('table', { name: 'Push devices' })
      .getByRole('row')
      .filter({ hasText: `sip:mia@${DOMAIN}` })
      .getByRole('button', { name: /^Send test push to / })
      .click();
    await page
      .getByRole('status')
      .getByText(/^failed \(no apns credentials/)
      .waitFor();
    expect(apns.received.length).toBe(before);
  });
});
