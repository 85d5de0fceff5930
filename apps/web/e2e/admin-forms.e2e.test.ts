import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sipHa1 } from '@switchboard/db';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapBothWidths } from './browser.ts';
import { ARTIFACTS, OPERATOR, type Platform, startPlatform } from './platform.ts';

/**
 * The operator's forms against the real platform: empty drop-downs, complete create forms, the subscriber
 * list (customer, online, search, SIP password), editable forwards, the audit diff, API keys, CSV import and
 * export, the rule editors' help, the 404 page and the favicon.
 */

const DOMAIN = 'forms.example.test';

let platform: Platform;
let page: Page;
const pageProblems: string[] = [];

async function open(label: string, heading: string) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: label, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

const snap = (name: string) => snapBothWidths(platform, page, `forms-${name}`);

const form = (name: string) => page.getByRole('form', { name, exact: true });
const table = (name: string) => page.getByRole('table', { name, exact: true });

beforeAll(async () => {
  platform = await startPlatform('admin_forms', {}, { min: 47200, max: 47259 });
  page = platform.page;
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => pageProblems.push(error.message));
  await page.goto(`${platform.baseUrl}/login`);
  await page.getByLabel('E-mail').fill(OPERATOR.email);
  await page.getByLabel('Password', { exact: true }).fill(OPERATOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
});

afterAll(async () => {
  await platform?.close();
});

describe('empty drop-downs, 404 and favicon', () => {
  it('says what to create first', async () => {
    await open('Subscribers', 'Subscribers');
    const create = form('New subscriber');
    await expect
      .poll(() => create.getByLabel('Customer').locator('option').allTextContents())
      .toEqual(['Create a customer first']);
    await expect
      .poll(() => create.getByLabel('Domain', { exact: true }).locator('option').allTextContents())
      .toEqual(['Create a domain first']);
    await snap('subscribers-empty');
  });

  it('shows a 404 page for an unknown admin URL, and /favicon.ico is an icon', async () => {
    await page.goto(`${platform.baseUrl}/admin/no-such-page`);
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    expect(await page.getByText('/admin/no-such-page').count()).toBe(1);
    await snap('not-found');
    await page.getByRole('link', { name: 'Go to the start page' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const icon = await fetch(`${platform.baseUrl}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\//);
    const bytes = new Uint8Array(await icon.arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual([0, 0, 1, 0]);
  });
});

describe('create forms and the subscriber list', () => {
  it('creates a customer with limits and a domain with its dial plan', async () => {
    await open('Customers', 'Customers');
    const c = form('New customer');
    await c.getByLabel('Name', { exact: true }).fill('Forms Ltd');
    await c.getByLabel('Max. subscribers').fill('5');
    await c.getByLabel('Max. call duration (s)').fill('3600');
    await c.getByRole('button', { name: 'Create customer' }).click();
    await table('Customers').getByRole('cell', { name: 'Forms Ltd', exact: true }).waitFor();
    await expect.poll(() => c.getByLabel('Name', { exact: true }).inputValue()).toBe('');

    await open('Domains', 'Domains');
    const d = form('New domain');
    await d.getByLabel('Domain name').fill(DOMAIN);
    await d.getByLabel('Country code').fill('43');
    await d.getByLabel('National prefix', { exact: true }).fill('0');
    await d.getByLabel('International prefix').fill('00');
    await d.getByLabel('Area code').fill('1');
    await d.getByRole('button', { name: 'Create domain' }).click();
    await table('Domains').getByRole('cell', { name: DOMAIN, exact: true }).waitFor();
    await snap('domains');
    const customer = await platform.prisma.customer.findFirstOrThrow({ where: { name: 'Forms Ltd' } });
    expect(customer).toMatchObject({ maxSubscribers: 5, maxCallDuration: 3600 });
    const domain = await platform.prisma.domain.findFirstOrThrow({ where: { name: DOMAIN } });
    expect(domain).toMatchObject({
      countryCode: '43',
      nationalPrefix: '0',
      internationalPrefix: '00',
      areaCode: '1',
    });
  });

  it('creates subscribers with a typed and a generated SIP password, with copy buttons', async () => {
    await open('Subscribers', 'Subscribers');
    const s = form('New subscriber');
    await s.getByLabel('Customer').selectOption({ label: 'Forms Ltd' });
    await s.getByLabel('Domain', { exact: true }).selectOption({ label: DOMAIN });
    await s.getByLabel('User name', { exact: true }).fill('alice');
    await s.getByLabel('Display name').fill('Alice Forms');
    await s.getByLabel('SIP password').fill('alice-typed-secret-7');
    await s.getByLabel('Max. concurrent calls').fill('2');
    await s.getByRole('button', { name: 'Create subscriber' }).click();
    await table('Subscribers')
      .getByRole('cell', { name: `sip:alice@${DOMAIN}` })
      .waitFor();
    // A typed password is not echoed back; user name and domain are there to copy.
    await s.getByRole('button', { name: 'Copy user name' }).waitFor();
    expect(await page.getByTestId('new-sip-password').count()).toBe(0);
    const alice = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
    expect(alice).toMatchObject({
      ...sipHa1('alice', DOMAIN, 'alice-typed-secret-7'),
      maxConcurrentCalls: 2,
    });

    await s.getByLabel('Customer').selectOption({ label: 'Forms Ltd' });
    await s.getByLabel('Domain', { exact: true }).selectOption({ label: DOMAIN });
    await s.getByLabel('User name', { exact: true }).fill('bob');
    await s.getByRole('button', { name: 'Create subscriber' }).click();
    const generated = (await page.getByTestId('new-sip-password').textContent()) ?? '';
    expect(generated.length).toBeGreaterThanOrEqual(12);
    const bob = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'bob' } });
    expect(bob.ha1Md5).toBe(sipHa1('bob', DOMAIN, generated).ha1Md5);
    await platform.browser.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: platform.baseUrl,
    });
    await s.getByRole('button', { name: 'Copy SIP password' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(generated);
  });

  it('lists customer and online state, and searches by display name and number', async () => {
    const alice = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
    await platform.prisma.registration.create({
      data: {
        subscriberId: alice.id,
        aor: `sip:alice@${DOMAIN}`,
        bindingKey: 'test-binding',
        contactUri: 'sip:alice@127.0.0.1:5099',
        receivedAddress: '127.0.0.1',
        receivedPort: 5099,
        transport: 'udp',
        expiresAt: new Date(Date.now() + 3600_000),
        callId: 'forms-test',
        cseq: 1,
        node: 'test',
      },
    });
    await platform.prisma.phoneNumber.create({
      data: {
        subscriberId: alice.id,
        e164: '+4315550123',
        countryCode: '43',
        areaCode: '1',
        subscriberNumber: '5550123',
        isPrimary: true,
      },
    });
    await page.reload();
    const rowOf = (user: string) =>
      table('Subscribers')
        .getByRole('row')
        .filter({ hasText: `sip:${user}@` });
    await expect.poll(() => rowOf('alice').textContent()).toContain('online');
    expect(await rowOf('alice').textContent()).toContain('Forms Ltd');
    expect(await rowOf('bob').textContent()).toContain('offline');
    // Rows of the search result only: the table is replaced by a loader while a search runs.
    const found = async () =>
      (await table('Subscribers').getByRole('cell', { name: /^sip:/ }).allTextContents()).join(' ');
    await page.getByLabel('Search subscribers').fill('5550123');
    await expect.poll(found).toBe(`sip:alice@${DOMAIN}`);
    await page.getByLabel('Search subscribers').fill('ALICE FORMS');
    await expect.poll(found).toBe(`sip:alice@${DOMAIN}`);
    await page.getByLabel('Search subscribers').fill('bob');
    await expect.poll(found).toBe(`sip:bob@${DOMAIN}`);
    await page.getByLabel('Search subscribers').fill('');
    await rowOf('bob').waitFor();
    await snap('subscribers');
  });

  it('lets the operator set a new SIP password and change the display name (audited with a diff)', async () => {
    await page.getByRole('button', { name: 'Edit alice' }).click();
    const edit = form(`Edit subscriber sip:alice@${DOMAIN}`);
    await edit.getByLabel('Display name').fill('Alice Renamed');
    await edit.getByLabel('New SIP password').fill('alice-second-secret-8');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await table('Subscribers').getByRole('cell', { name: 'Alice Renamed' }).waitFor();
    const alice = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
    expect(alice.ha1Sha256).toBe(sipHa1('alice', DOMAIN, 'alice-second-secret-8').ha1Sha256);

    await open('Audit log', 'Audit log');
    const entry = table('Audit log')
      .getByRole('row')
      .filter({ hasText: 'update' })
      .filter({ hasText: `alice@${DOMAIN}` });
    await entry.first().waitFor();
    await entry
      .first()
      .getByRole('button', { name: `Changes of update alice@${DOMAIN}` })
      .click();
    const diff = page.getByRole('table', { name: `Changes of alice@${DOMAIN}` });
    const displayRow = diff.getByRole('row').filter({ hasText: 'displayName' });
    expect(await displayRow.textContent()).toBe('displayNameAlice FormsAlice Renamed');
    // Secrets never reach the audit table, so no digest appears in the diff.
    expect(await diff.textContent()).not.toMatch(/ha1|[0-9a-f]{32}/i);
    await snap('audit-log');
  });
});

describe('call forwards', () => {
  it('are editable and show their ring time', async () => {
    await open('Call forwards', 'Call forwards');
    const f = form('New call forward');
    await f.getByLabel('Phone').selectOption({ label: `sip:alice@${DOMAIN}` });
    await f.getByLabel('When').selectOption({ label: 'When not answered' });
    await f.getByLabel('Forward to').fill('+4315550999');
    await f.getByLabel('Ring time (seconds)').fill('25');
    await f.getByRole('button', { name: 'Save forward' }).click();
    const row = table('Call forwards').getByRole('row').filter({ hasText: '+4315550999' });
    await expect.poll(() => row.textContent()).toContain('25 s');
    await row.getByRole('button', { name: 'Edit forward to +4315550999' }).click();
    const edit = page.getByRole('form', { name: /^Edit forward/ });
    await edit.getByLabel('Ring time (seconds)').fill('40');
    await edit.getByLabel('Forward to').fill('+4315550888');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const changed = table('Call forwards').getByRole('row').filter({ hasText: '+4315550888' });
    await expect.poll(() => changed.textContent()).toContain('40 s');
    const stored = await platform.prisma.callForward.findFirstOrThrow({ include: { destinations: true } });
    expect(stored.ringTimeout).toBe(40);
    expect(stored.destinations.map((d) => d.destination)).toEqual(['+4315550888']);
    await snap('call-forwards');
  });
});

describe('API keys', () => {
  it('creates a key with an expiry, shows when it was last used, and revokes it', async () => {
    await open('API keys', 'API keys');
    const k = form('New API key');
    await k.getByLabel('Name').fill('billing export');
    const expiry = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await k.getByLabel('Expires (optional)').fill(expiry);
    await k.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-api-key').textContent()) ?? '';
    expect(key.length).toBeGreaterThan(20);
    const row = table('API keys').getByRole('row').filter({ hasText: 'billing export' });
    expect(await row.textContent()).toContain('never');
    const used = await fetch(`${platform.baseUrl}/api/v1/subscribers`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(used.status).toBe(200);
    await page.reload();
    await expect.poll(async () => (await row.textContent())?.match(/never/g)?.length ?? 0).toBe(0);
    await snap('api-keys');
    await row.getByRole('button', { name: 'Revoke billing export' }).click();
    await row.getByRole('button', { name: 'Confirm revoking billing export' }).click();
    await expect.poll(() => row.textContent()).toContain('revoked');
    const after = await fetch(`${platform.baseUrl}/api/v1/subscribers`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(after.status).toBe(401);
  });
});

describe('CSV import and export', () => {
  it('exports, dry-runs an import with row errors, then applies a clean one', async () => {
    await open('Import / export', 'Import and export');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download subscribers.csv' }).click();
    const exported = await readFile((await (await download).path()) ?? '', 'utf8');
    expect(exported.split('\n')[0]).toBe(
      'username,domain,customerId,customer,displayName,status,maxConcurrentCalls,clir,password',
    );
    expect(exported).toContain(`alice,${DOMAIN}`);

    const bad = join(ARTIFACTS, 'import-bad.csv');
    await writeFile(
      bad,
      [
        'username,domain,customer,displayName,password',
        `carol,${DOMAIN},Forms Ltd,Carol,carol-secret-99`,
        `dave,nowhere.test,Forms Ltd,,dave-secret-99`,
        `alice,${DOMAIN},Forms Ltd,Alice Imported,`,
      ].join('\n'),
    );
    await page.locator('input[type=file]').setInputFiles(bad);
    await page.getByRole('button', { name: 'Check (dry run)' }).click();
    await expect.poll(() => page.getByTestId('import-summary').textContent()).toContain('1 with errors');
    const errors = table('Row errors');
    expect(await errors.getByRole('row').nth(1).textContent()).toBe('3domainunknown domain');
    expect(await page.getByRole('button', { name: 'Apply' }).isDisabled()).toBe(true);
    await snap('import-errors');

    const good = join(ARTIFACTS, 'import-good.csv');
    await writeFile(
      good,
      [
        'username,domain,customer,displayName,password',
        `carol,${DOMAIN},Forms Ltd,Carol,carol-secret-99`,
        `alice,${DOMAIN},Forms Ltd,Alice Imported,`,
      ].join('\n'),
    );
    await page.locator('input[type=file]').setInputFiles(good);
    await page.getByRole('button', { name: 'Check (dry run)' }).click();
    await expect
      .poll(() => page.getByTestId('import-summary').textContent())
      .toContain('1 to create, 1 to update, 0 unchanged, 0 with errors');
    expect(await platform.prisma.subscriber.count({ where: { username: 'carol' } })).toBe(0);
    await snap('import-dry-run');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').filter({ hasText: 'Import applied' }).waitFor();
    const carol = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'carol' } });
    expect(carol.ha1Md5).toBe(sipHa1('carol', DOMAIN, 'carol-secret-99').ha1Md5);
    const alice = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
    expect(alice.displayName).toBe('Alice Imported');
  });
});

describe('rule editors', () => {
  it('rewrite rules: explain the syntax, say what to create first, clear the forms after Add', async () => {
    await open('Rewrite rules', 'Rewrite rules');
    await expect
      .poll(() => page.getByLabel('Rule set', { exact: true }).locator('option').allTextContents())
      .toEqual(['None yet: add a rule set']);
    const set = form('New rule set');
    await set.getByLabel('New rule set name').fill('national');
    await set.getByRole('button', { name: 'Add rule set' }).click();
    await expect
      .poll(() => page.getByLabel('Rule set', { exact: true }).locator('option').allTextContents())
      .toEqual(['national']);
    expect(await set.getByLabel('New rule set name').inputValue()).toBe('');

    const rule = form('New rule');
    await rule.getByText('How to write patterns and replacements').click();
    await rule.getByText('$1…$9', { exact: false }).first().waitFor();
    await rule.getByLabel('Match pattern').fill('^0(\\d+)$');
    await rule.getByLabel('Replacement').fill(`$\{cc}$1`);
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await table('Rules').getByRole('cell', { name: '^0(\\d+)$', exact: true }).waitFor();
    expect(await rule.getByLabel('Match pattern').inputValue()).toBe('');
    await snap('rewrite-rules');
  });

  it('peering: explains prefix and caller pattern, takes them on create', async () => {
    await open('Peering', 'Peering');
    await expect
      .poll(() => page.getByLabel('Peering group').locator('option').allTextContents())
      .toEqual(['None yet: add a group']);
    await form('New peering group').getByLabel('New group name').fill('carrier');
    await form('New peering group').getByRole('button', { name: 'Add group' }).click();
    await expect.poll(() => form('New peering group').getByLabel('New group name').inputValue()).toBe('');
    const gw = form('New gateway');
    await gw.getByLabel('Gateway name').fill('gw-auth');
    await gw.getByLabel('Host').fill('127.0.0.1');
    await gw.getByLabel('Weight').fill('3');
    await gw.getByLabel('Auth user').fill('trunk-user');
    await gw.getByLabel('Auth password').fill('trunk-secret-1');
    await gw.getByRole('button', { name: 'Add gateway' }).click();
    await table('Gateways').getByRole('cell', { name: 'gw-auth', exact: true }).waitFor();
    expect(await gw.getByLabel('Auth password').inputValue()).toBe('');
    const gateway = await platform.prisma.peerGateway.findFirstOrThrow({ where: { name: 'gw-auth' } });
    expect(gateway).toMatchObject({ weight: 3, priority: 100, authUsername: 'trunk-user' });

    const rule = form('New routing rule');
    await rule.getByText('How routing rules match').click();
    await rule.getByLabel('Callee prefix').fill('4369');
    await rule.getByLabel('Caller pattern').fill('^43');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await table('Routing rules').getByRole('cell', { name: '4369', exact: true }).waitFor();
    expect(await rule.getByLabel('Callee prefix').inputValue()).toBe('');
    const stored = await platform.prisma.peeringRule.findFirstOrThrow({ where: { calleePrefix: '4369' } });
    expect(stored.callerPattern).toBe('^43');
    await snap('peering');
    expect(pageProblems).toEqual([]);
  });
});
