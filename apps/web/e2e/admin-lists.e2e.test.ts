import { fileURLToPath } from 'node:url';
import { sipHa1 } from '@switchboard/db';
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
import { dialled } from '../src/components/format.ts';
import { eventually, snapBothWidths } from './browser.ts';
import { OPERATOR, type Platform, startPlatform } from './platform.ts';

/**
 * The operator's daily lists against the real platform (launcher, PostgreSQL, engine, sip-core, rtpengine):
 * server-side paging and sorting, bulk actions, delete with the dependants shown, the registrations and live
 * calls pages (kick a device, hang up a call placed by sipp), CDR search by a caller's E.164, the dashboard.
 */

const DOMAIN = 'lists.example.test';
const SIP_PASSWORD = 'lists-sip-password-1';
/** This suite's ports, apart from the portal suite's (both may run at once). */
const RTP = { min: 47200, max: 47259 };
const SIPP = { min: 47260, max: 47299 };
const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));
const ALICE_E164 = '+4399001';

let platform: Platform;
let page: Page;
const pageProblems: string[] = [];

const snap = (name: string) => snapBothWidths(platform, page, `lists-${name}`);

async function open(label: string, heading: string) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: label, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

async function seed() {
  const db = platform.prisma;
  const domain = await db.domain.create({ data: { name: DOMAIN } });
  const customer = await db.customer.create({ data: { name: 'Paging Co' } });
  const subscriber = (username: string, customerId = customer.id) => ({
    customerId,
    domainId: domain.id,
    username,
    ...sipHa1(username, DOMAIN, SIP_PASSWORD),
  });
  await db.subscriber.createMany({
    data: [
      subscriber('alice'),
      subscriber('bob'),
      ...Array.from({ length: 60 }, (_, i) => subscriber(`pager-${String(i).padStart(2, '0')}`)),
    ],
  });
  const alice = await db.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
  await db.phoneNumber.create({
    data: {
      subscriberId: alice.id,
      e164: ALICE_E164,
      countryCode: '43',
      areaCode: '99',
      subscriberNumber: '001',
      isPrimary: true,
    },
  });
  const doomed = await db.customer.create({ data: { name: 'Doomed Ltd' } });
  await db.subscriber.createMany({
    data: [subscriber('doomed-1', doomed.id), subscriber('doomed-2', doomed.id)],
  });
}

beforeAll(async () => {
  platform = await startPlatform('lists', {}, RTP);
  page = platform.page;
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) pageProblems.push(message.text());
  });
  page.on('pageerror', (error) => pageProblems.push(error.message));
  await seed();
  await page.goto(`${platform.baseUrl}/login`);
  await page.getByLabel('E-mail').fill(OPERATOR.email);
  await page.getByLabel('Password', { exact: true }).fill(OPERATOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
});

afterAll(async () => {
  stopAllSipp();
  await platform?.close();
});

describe('lists', () => {
  it('pages, sizes and sorts the subscribers on the server', async () => {
    await open('Subscribers', 'Subscribers');
    const range = page.getByTestId('Subscribers-range');
    await expect.poll(() => range.textContent()).toBe('1–25 of 64');
    const table = page.getByRole('table', { name: 'Subscribers' });
    await table.getByRole('cell', { name: `sip:alice@${DOMAIN}`, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => range.textContent()).toBe('26–50 of 64');
    await table.getByRole('cell', { name: `sip:pager-21@${DOMAIN}`, exact: true }).waitFor();
    await page.getByLabel('Rows per page').selectOption('100');
    await expect.poll(() => range.textContent()).toBe('1–64 of 64');
    // Sorted by user name already: a click on the header sorts descending.
    await page.getByRole('button', { name: 'SIP URI', exact: true }).click();
    await expect
      .poll(() => table.getByRole('row').nth(1).getByRole('cell').nth(1).textContent())
      .toBe(`sip:pager-59@${DOMAIN}`);
    // Searching goes back to the first page of the matches.
    await page.getByLabel('Search subscribers').fill('doomed');
    await expect.poll(() => range.textContent()).toBe('1–2 of 2');
    await page.getByLabel('Search subscribers').fill('');
    await page.getByLabel('Rows per page').selectOption('25');
    await snap('subscribers');
  });

  it('disables the selected subscribers in one go', async () => {
    await page.getByLabel('Search subscribers').fill('pager-0');
    const table = page.getByRole('table', { name: 'Subscribers' });
    await page.getByRole('checkbox', { name: 'Select pager-00' }).check();
    await page.getByRole('checkbox', { name: 'Select pager-01' }).check();
    const bar = page.getByRole('region', { name: 'Bulk actions' });
    await bar.getByText('2 selected').waitFor();
    await bar.getByRole('button', { name: 'Disable selected' }).click();
    await bar.waitFor({ state: 'detached' });
    await table.getByRole('button', { name: 'Enable pager-01' }).waitFor();
    const locked = await platform.prisma.subscriber.findMany({
      where: { status: 'locked' },
      select: { username: true },
      orderBy: { username: 'asc' },
    });
    expect(locked.map((s) => s.username)).toEqual(['pager-00', 'pager-01']);
    await page.getByLabel('Search subscribers').fill('');
  });

  it('shows what depends on a customer before deleting it with everything', async () => {
    await open('Customers', 'Customers');
    await page.getByRole('button', { name: 'Delete Doomed Ltd' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Doomed Ltd?' });
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('list', { name: 'Dependent records' }).getByText('2 subscribers').waitFor();
    expect(await platform.prisma.customer.count({ where: { name: 'Doomed Ltd' } })).toBe(1);
    await snap('delete-dependants');
    await dialog.getByRole('button', { name: 'Delete with all dependants' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page
      .getByRole('table', { name: 'Customers' })
      .getByText('Doomed Ltd')
      .waitFor({ state: 'detached' });
    expect(await platform.prisma.customer.count({ where: { name: 'Doomed Ltd' } })).toBe(0);
    expect(await platform.prisma.subscriber.count({ where: { username: { startsWith: 'doomed' } } })).toBe(0);
  });
});

describe('live state', () => {
  let bobPort: number;

  it('lists the registration of a device', async () => {
    bobPort = await allocatePort(SIPP);
    const register = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'register.xml',
      port: bobPort,
      remote: platform.sipAddress,
      fields: registerFields('bob', SIP_PASSWORD, DOMAIN),
      authUri: DOMAIN,
    });
    expectSippOk(await register.done, 'register bob');
    await open('Registrations', 'Registrations');
    const row = page
      .getByRole('table', { name: 'Registrations' })
      .getByRole('row')
      .filter({ hasText: `sip:bob@${DOMAIN}` });
    await row.getByRole('cell', { name: `127.0.0.1:${bobPort}`, exact: true }).waitFor();
    await row.getByRole('cell', { name: 'udp', exact: true }).waitFor();
    await snap('registrations');
  });

  it('shows a call in progress with its codec and relay, and hangs it up', async () => {
    const callee = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'uas-answer.xml',
      port: bobPort,
      timeoutS: 60,
    });
    await waitForUdpListener(bobPort);
    const caller = startSipp({
      scenarioDir: SCENARIOS,
      scenario: 'uac-call-wait-bye.xml',
      port: await allocatePort(SIPP),
      remote: platform.sipAddress,
      fields: callFields('alice', SIP_PASSWORD, DOMAIN, 'bob'),
      authUri: `bob@${DOMAIN}`,
      timeoutS: 60,
    });
    await open('Live calls', 'Live calls');
    // Codecs show once the call is answered.
    const row = page
      .getByRole('table', { name: 'Live calls' })
      .getByRole('row')
      .filter({ hasText: 'PCMU/8000' });
    await row.getByRole('cell', { name: `sip:alice@${DOMAIN}`, exact: true }).waitFor();
    expect(await row.getByRole('cell', { name: /^127\.0\.0\.1:\d+$/ }).count()).toBe(1);
    await snap('live-calls');
    await row.getByRole('button', { name: /^Hang up the call from/ }).click();
    const [uac, uas] = await Promise.all([caller.done, callee.done]);
    expectSippOk(uac, 'alice, hung up by the operator');
    expectSippOk(uas, 'bob, hung up by the operator');
    await page.getByText('No call in progress.').waitFor();
    const cdr = await eventually(() =>
      platform.prisma.cdr.findFirst({ where: { sipReason: 'Hung up through the API' } }),
    );
    expect(cdr.disposition).toBe('answered');
  });

  it("finds the call by the caller's E.164 and shows the callee without URI parameters", async () => {
    const cdr = await platform.prisma.cdr.findFirstOrThrow({ where: { disposition: 'answered' } });
    await open('Call records', 'Call records');
    await page.getByLabel('Number or user contains').fill('+43 99 001');
    const table = page.getByRole('table', { name: 'Call detail records' });
    const row = table.getByRole('row').filter({ hasText: 'answered (200)' });
    await row.getByRole('cell', { name: dialled(cdr.calleeDialled), exact: true }).waitFor();
    expect(await row.textContent()).not.toContain('transport=');
    // Until a time before the call: nothing; a customer with no calls: nothing.
    await page.getByLabel('Until').fill('2020-01-01T00:00');
    await page.getByText('No calls match.').waitFor();
    await page.getByLabel('Until').fill('');
    await row.waitFor();
    await page.getByLabel('Customer').selectOption({ label: 'Paging Co' });
    await row.waitFor();
    await snap('cdrs');
  });

  it('counts devices and authentication failures on the dashboard', async () => {
    await open('Dashboard', 'Dashboard');
    await page
      .getByLabel('Registered devices')
      .and(page.getByText('1', { exact: true }))
      .waitFor();
    await page
      .getByLabel('Calls in the last 24 hours')
      .and(page.getByText('1', { exact: true }))
      .waitFor();
    // alice's INVITE was challenged once (407): a challenge is not a failure.
    await page
      .getByLabel('SIP authentication failures')
      .and(page.getByText('0', { exact: true }))
      .waitFor();
    await snap('dashboard');
  });

  it('kicks the device: the binding goes from the table and from sip-core', async () => {
    await open('Registrations', 'Registrations');
    await page
      .getByRole('button', { name: new RegExp(`^Delete the registration of sip:bob@${DOMAIN}`) })
      .click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('No device is registered.').waitFor();
    expect(await platform.prisma.registration.count()).toBe(0);
    // sip-core's own memory: its health detail counts the bindings it would route calls to.
    await eventually(async () => {
      const health = (await (await fetch(`${platform.baseUrl}/api/health`)).json()) as {
        components: Record<string, { detail?: string }>;
      };
      return health.components['sip-core']?.detail === '0 bindings' ? true : null;
    });
    expect(pageProblems).toEqual([]);
  });
});
