import { hashPassword, sipHa1 } from '@switchboard/db';
import {
  allocatePort,
  CALL_SCENARIOS,
  callFields,
  expectSippOk,
  registerFields,
  startSipp,
  stopAllSipp,
  waitForUdpListener,
} from '@switchboard/testkit';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, signIn } from './browser.ts';
import { type Platform, startPlatform } from './platform.ts';

/**
 * A customer sets up a hunt group in the portal of the whole platform (the launcher: engine, sip-core,
 * rtpengine, API) in headless chromium; a call to the group's address then reaches its member.
 */

const DOMAIN = 'voip.hunt.test';
const RTP = { min: 47400, max: 47459 };
const SIPP = { min: 47460, max: 47499 };
const CUSTOMER = { email: 'office@acme.example', password: 'acme portal password 1' };
const SIP_PASSWORD = 'sip-secret-hunt-1';

let platform: Platform;
let page: Page;

beforeAll(async () => {
  platform = await startPlatform('hunt_groups', {}, RTP);
  page = platform.page;
  page.setDefaultTimeout(20_000);
  const prisma = platform.prisma;
  const domain = await prisma.domain.create({ data: { name: DOMAIN } });
  const customer = await prisma.customer.create({ data: { name: 'Acme' } });
  for (const username of ['alice', 'anna', 'ben'])
    await prisma.subscriber.create({
      data: {
        customerId: customer.id,
        domainId: domain.id,
        username,
        ...sipHa1(username, DOMAIN, SIP_PASSWORD),
      },
    });
  await prisma.user.create({
    data: {
      email: CUSTOMER.email,
      passwordHash: await hashPassword(CUSTOMER.password),
      role: 'customer',
      customerId: customer.id,
    },
  });
}, 180_000);

afterAll(async () => {
  stopAllSipp();
  await platform?.close();
}, 60_000);

describe('hunt groups', () => {
  it('a customer creates a group in the portal; a call to it rings the member', async () => {
    await signIn(platform, page, CUSTOMER.email, CUSTOMER.password);
    await page.getByRole('heading', { level: 1, name: 'My phones' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hunt groups' }).click();
    await page.getByRole('heading', { level: 1, name: 'Hunt groups' }).waitFor();
    const form = page.getByRole('form', { name: 'New hunt group' });
    await form.getByLabel('Domain').selectOption({ label: DOMAIN });
    await form.getByLabel('User name').fill('sales');
    await form.getByLabel('Name', { exact: true }).fill('Sales');
    await form.getByLabel('Ring', { exact: true }).selectOption('sequential');
    await form.getByLabel('Ring time (seconds)').fill('10');
    // ben first, then anna: ben is not registered and is skipped, anna answers.
    await form.getByLabel(`sip:ben@${DOMAIN}`).check();
    await form.getByLabel(`sip:anna@${DOMAIN}`).check();
    await form.getByText(`Ring order: sip:ben@${DOMAIN}, sip:anna@${DOMAIN}`).waitFor();
    await form.getByRole('button', { name: 'Save hunt group' }).click();
    await page
      .getByRole('table', { name: 'Hunt groups' })
      .getByRole('cell', { name: `sip:sales@${DOMAIN}`, exact: true })
      .waitFor();

    const stored = await platform.prisma.huntGroup.findFirstOrThrow({
      where: { username: 'sales' },
      include: { members: { orderBy: { position: 'asc' }, include: { subscriber: true } } },
    });
    expect(stored.strategy).toBe('sequential');
    expect(stored.ringTimeout).toBe(10);
    expect(stored.members.map((m) => m.subscriber.username)).toEqual(['ben', 'anna']);

    const annaPort = await allocatePort(SIPP);
    const register = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'register.xml',
      port: annaPort,
      remote: platform.sipAddress,
      fields: registerFields('anna', SIP_PASSWORD, DOMAIN),
      authUri: DOMAIN,
    });
    expectSippOk(await register.done, 'register anna');
    const anna = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'uas-answer.xml',
      port: annaPort,
      timeoutS: 40,
    });
    await waitForUdpListener(annaPort);
    const caller = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'uac-call-bye.xml',
      port: await allocatePort(SIPP),
      remote: platform.sipAddress,
      fields: callFields('alice', SIP_PASSWORD, DOMAIN, 'sales'),
      authUri: `sales@${DOMAIN}`,
      timeoutS: 40,
    });
    const [uac, uas] = await Promise.all([caller.done, anna.done]);
    expectSippOk(uac, 'alice calling sales');
    expectSippOk(uas, 'anna answering');
    const cdr = await eventually(() =>
      platform.prisma.cdr.findFirst({
        where: { disposition: 'answered' },
        include: { calleeSubscriber: true },
      }),
    );
    expect(cdr.calleeRouted).toBe(`sip:sales@${DOMAIN}`);
    expect(cdr.calleeSubscriber?.username).toBe('anna');
  });
});
