import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sipHa1 } from '@switchboard/db';
import { apnsCredentials, seal, sealingContext, splitCredentials } from '@switchboard/push';
import { FakeApns, makeApnsKey, makeTestCertificate } from '@switchboard/push/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR, type Platform, startPlatform } from './platform.ts';

/**
 * The admin's "Push devices" page against the whole platform: its APNs endpoint is a local stand-in
 * that checks the provider token, headers and path the way Apple's service does, and the operator's
 * "Send test push" reaches it through the API.
 */
const DOMAIN = 'push.example.test';
const TEAM = 'ABCDE12345';
const BUNDLE = 'com.example.phone';
const DEVICE_TOKEN = 'c0ffee'.padEnd(64, '1');

let platform: Platform;
let page: Page;
let apns: FakeApns;
let certDir: string;

beforeAll(async () => {
  const certificate = makeTestCertificate();
  const apnsKey = makeApnsKey();
  apns = await new FakeApns(certificate, {
    publicKey: apnsKey.publicKey,
    teamId: TEAM,
    keyId: 'KEY1234567',
    topic: `${BUNDLE}.voip`,
  }).listen();
  certDir = await mkdtemp(join(tmpdir(), 'sb-web-push-'));
  const caFile = join(certDir, 'ca.pem');
  await writeFile(caFile, certificate.cert);
  const key = randomBytes(32);
  platform = await startPlatform('push', {
    PUSH_APNS_URL: apns.url,
    PUSH_CREDENTIALS_KEY: key.toString('hex'),
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
  const credentials = apnsCredentials({
    teamId: TEAM,
    keyId: 'KEY1234567',
    bundleId: BUNDLE,
    privateKey: apnsKey.privateKey,
  });
  const { settings, secret } = splitCredentials(credentials);
  await prisma.pushCredential.create({
    data: {
      domainId: domain.id,
      provider: 'apns',
      settings,
      sealedSecret: seal(key, secret, sealingContext(domain.id, 'apns')),
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
  it('lists a push binding and sends it a test push through APNs', async () => {
    await page.goto(`${platform.baseUrl}/login`);
    await page.getByLabel('E-mail').fill(OPERATOR.email);
    await page.getByLabel('Password', { exact: true }).fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Push devices' }).click();
    await page.getByRole('heading', { level: 1, name: 'Push devices' }).waitFor();

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
});
