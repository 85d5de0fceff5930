import { readFile } from 'node:fs/promises';
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
import { dialled, formatDuration } from '../src/components/format.ts';
import { eventually, signIn as signInAs, snapBothWidths } from './browser.ts';
import { OPERATOR, type Platform, SIPP_PORTS, startPlatform } from './platform.ts';

const DOMAIN = 'voip.example.test';

let platform: Platform;
let page: Page;
/** What chromium reported against the security policy (CSP) or as uncaught errors, over the whole run. */
const pageProblems: string[] = [];
/** SIP passwords the admin showed once when it created each subscriber. */
const sipPasswords: Record<string, string> = {};

const signIn = (email: string, password: string) => signInAs(platform, page, email, password);

async function open(label: string, heading: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

const snap = (name: string) => snapBothWidths(platform, page, name);

beforeAll(async () => {
  platform = await startPlatform('portal');
  page = platform.page;
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) pageProblems.push(message.text());
  });
  page.on('pageerror', (error) => pageProblems.push(error.message));
});

afterAll(async () => {
  stopAllSipp();
  await platform?.close();
});

describe('operator', () => {
  it('signs in and sees the dashboard', async () => {
    const first = await page.goto(platform.baseUrl);
    expect(first?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(first?.headers()['x-frame-options']).toBe('DENY');
    expect(first?.headers()['x-content-type-options']).toBe('nosniff');
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await snap('login');
    await signIn(OPERATOR.email, OPERATOR.password);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page
      .getByLabel('Active calls')
      .and(page.getByText('0', { exact: true }))
      .waitFor();
    await snap('dashboard');
  });

  it('keeps the session in an HttpOnly cookie that scripts cannot read, and changes need the CSRF token', async () => {
    const cookies = await platform.browser.cookies(`${platform.baseUrl}/api/v1/auth/me`);
    const session = cookies.find((c) => c.name === 'sb_session');
    expect(session?.value).toMatch(/^sbt_/);
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    const visible = await page.evaluate(() => ({
      cookie: document.cookie,
      storage: JSON.stringify({ ...localStorage, ...sessionStorage }),
    }));
    expect(visible.cookie).not.toContain('sbt_');
    expect(visible.cookie).toContain('sb_csrf=');
    expect(visible.storage).not.toContain('sbt_');
    // A request that only rides on the cookie, as one forged by another page would, is refused.
    const forged = await page.evaluate(async () => {
      const res = await fetch('/api/v1/api-keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'forged' }),
      });
      return res.status;
    });
    expect(forged).toBe(403);
    expect(await platform.prisma.apiKey.count()).toBe(0);
    // The session survives a reload: nothing was kept in page memory.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  });

  it('creates a domain open for sign-up, a customer and a subscriber', async () => {
    await open('Domains', 'Domains');
    await page.getByLabel('Domain name').fill(DOMAIN);
    await page.getByLabel('Customers may sign up').check();
    await page.getByRole('button', { name: 'Create domain' }).click();
    await page
      .getByRole('table', { name: 'Domains' })
      .getByRole('cell', { name: DOMAIN, exact: true })
      .waitFor();
    await snap('domains');

    await open('Customers', 'Customers');
    await page.getByLabel('Name').fill('Acme Ltd');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page
      .getByRole('table', { name: 'Customers' })
      .getByRole('cell', { name: 'Acme Ltd', exact: true })
      .waitFor();
    await snap('customers');

    await open('Subscribers', 'Subscribers');
    await page.getByLabel('Customer').selectOption({ label: 'Acme Ltd' });
    await page.getByLabel('Domain', { exact: true }).selectOption({ label: DOMAIN });
    await page.getByLabel('User name', { exact: true }).fill('alice');
    await page.getByLabel('Display name').fill('Alice Example');
    await page.getByRole('button', { name: 'Create subscriber' }).click();
    const password = await page.getByTestId('new-sip-password').textContent();
    expect(password?.length).toBeGreaterThanOrEqual(12);
    sipPasswords.alice = password ?? '';
    await page
      .getByRole('table', { name: 'Subscribers' })
      .getByRole('cell', { name: `sip:alice@${DOMAIN}` })
      .waitFor();

    // The callee of the call placed below.
    await page.getByLabel('Customer').selectOption({ label: 'Acme Ltd' });
    await page.getByLabel('Domain', { exact: true }).selectOption({ label: DOMAIN });
    await page.getByLabel('User name', { exact: true }).fill('carol');
    await page.getByRole('button', { name: 'Create subscriber' }).click();
    await page
      .getByRole('table', { name: 'Subscribers' })
      .getByRole('cell', { name: `sip:carol@${DOMAIN}` })
      .waitFor();
    sipPasswords.carol = (await page.getByTestId('new-sip-password').textContent()) ?? '';
    expect(sipPasswords.carol).not.toBe(sipPasswords.alice);
    await snap('subscribers');

    await open('Numbers', 'Numbers');
    await page.getByLabel('Rings', { exact: true }).selectOption({ label: `sip:alice@${DOMAIN}` });
    await page.getByLabel('Country code').fill('49');
    await page.getByLabel('Area code').fill('30');
    await page.getByLabel('Subscriber number').fill('5550100');
    await page.getByRole('button', { name: 'Add number' }).click();
    await page
      .getByRole('table', { name: 'Numbers' })
      .getByRole('cell', { name: '+49305550100', exact: true })
      .waitFor();
    await snap('numbers');

    const stored = await platform.prisma.subscriber.findFirstOrThrow({
      where: { username: 'alice' },
      include: { customer: true },
    });
    expect(stored.customer.name).toBe('Acme Ltd');
    expect(stored.displayName).toBe('Alice Example');
  });

  it('shows a call placed through the platform by sipp, filters it and exports it as CSV', async () => {
    // The launcher anchors media in its own rtpengine (installed on the test machines), as in production.
    expect(platform.mediaMode).toBe('local');
    // carol's sipp registers and waits for the call on the port it registered from.
    const carolPort = await allocatePort(SIPP_PORTS);
    const register = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'register.xml',
      port: carolPort,
      remote: platform.sipAddress,
      fields: registerFields('carol', sipPasswords.carol!, DOMAIN),
      authUri: DOMAIN,
    });
    expectSippOk(await register.done, 'register carol');
    const callee = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'uas-answer.xml',
      port: carolPort,
      timeoutS: 40,
    });
    await waitForUdpListener(carolPort);
    const caller = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'uac-call-bye.xml',
      port: await allocatePort(SIPP_PORTS),
      remote: platform.sipAddress,
      fields: callFields('alice', sipPasswords.alice!, DOMAIN, 'carol'),
      authUri: `carol@${DOMAIN}`,
      timeoutS: 40,
    });
    const [uac, uas] = await Promise.all([caller.done, callee.done]);
    expectSippOk(uac, 'alice calling carol');
    expectSippOk(uas, 'carol answering');

    // sip-core writes the record when the call ends; the BYE has been answered, so it is (about to be) there.
    const cdr = await eventually(() => platform.prisma.cdr.findFirst({ where: { disposition: 'answered' } }));
    expect(cdr.durationMs).toBeGreaterThan(0);
    const alice = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
    const carol = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'carol' } });
    expect(cdr.callerSubscriberId).toBe(alice.id);
    expect(cdr.calleeSubscriberId).toBe(carol.id);

    await open('Call records', 'Call records');
    const table = page.getByRole('table', { name: 'Call detail records' });
    const row = table.getByRole('row').filter({ hasText: 'answered (200)' });
    await row.waitFor();
    await row.getByRole('cell', { name: dialled(cdr.callerDialled), exact: true }).waitFor();
    await row.getByRole('cell', { name: dialled(cdr.calleeDialled), exact: true }).waitFor();
    await row.getByRole('cell', { name: formatDuration(cdr.durationMs ?? 0), exact: true }).waitFor();
    expect(cdr.callerDialled).toContain('alice');
    expect(cdr.calleeDialled).toContain('carol');
    await snap('cdrs');

    // Filters: another outcome hides the call, the callee's name finds it again.
    await page.getByLabel('Outcome').selectOption('busy');
    await page.getByText('No calls match.').waitFor();
    await page.getByLabel('Outcome').selectOption('answered');
    await page.getByLabel('Number or user contains').fill('carol');
    await row.waitFor();
    await page.getByLabel('Number or user contains').fill('nobody-here');
    await page.getByText('No calls match.').waitFor();
    await page.getByLabel('Number or user contains').fill('carol');
    await row.waitFor();

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await readFile((await (await download).path()) ?? '', 'utf8');
    expect(csv).toContain(cdr.callId);
    expect(csv).toContain('answered');
  });

  it('edits a customer and a subscriber in place, from the keyboard too', async () => {
    await open('Customers', 'Customers');
    await page.getByRole('button', { name: 'Edit Acme Ltd' }).click();
    const customer = page.getByRole('form', { name: 'Edit customer Acme Ltd' });
    await customer.getByLabel('Max. concurrent calls').fill('many');
    await customer.getByRole('button', { name: 'Save changes' }).click();
    await customer.getByText('A whole number, or empty').waitFor();
    await customer.getByLabel('Max. concurrent calls').fill('5');
    await customer.getByLabel('External ID').fill('ACME-001');
    await customer.getByRole('button', { name: 'Save changes' }).click();
    await customer.waitFor({ state: 'detached' });
    await page
      .getByRole('table', { name: 'Customers' })
      .getByRole('cell', { name: 'ACME-001', exact: true })
      .waitFor();
    const acme = await platform.prisma.customer.findFirstOrThrow({ where: { name: 'Acme Ltd' } });
    expect(acme.maxConcurrentCalls).toBe(5);

    await open('Subscribers', 'Subscribers');
    await page.getByRole('button', { name: 'Edit alice' }).click();
    const subscriber = page.getByRole('form', { name: `Edit subscriber sip:alice@${DOMAIN}` });
    // The editor takes the focus: type straight away, submit with Enter.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('name')))
      .toBe('displayName');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Alice Edited');
    await subscriber.getByLabel('Blocked callee prefixes').fill('900, 0190');
    await snap('subscriber-edit');
    await subscriber.getByLabel('Blocked callee prefixes').press('Enter');
    await subscriber.waitFor({ state: 'detached' });
    await page
      .getByRole('table', { name: 'Subscribers' })
      .getByRole('cell', { name: 'Alice Edited', exact: true })
      .waitFor();
    const alice = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
    expect(alice.blockedCalleePrefixes).toEqual(['900', '0190']);

    // Escape leaves without saving.
    await page.getByRole('button', { name: 'Edit carol' }).click();
    await page.keyboard.type('Not Saved');
    await page.keyboard.press('Escape');
    await page
      .getByRole('form', { name: `Edit subscriber sip:carol@${DOMAIN}` })
      .waitFor({ state: 'detached' });
    const carol = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'carol' } });
    expect(carol.displayName).toBeNull();
  });

  it('tests rewrite rules and least-cost routes', async () => {
    await open('Rewrite rules', 'Rewrite rules');
    await page.getByLabel('New rule set name').fill('national');
    await page.getByRole('button', { name: 'Add rule set' }).click();
    await page.getByLabel('Match pattern').fill('^0([1-9][0-9]+)$');
    await page.getByLabel('Replacement').fill('+49\\1');
    await page.getByRole('button', { name: 'Add rule', exact: true }).click();
    await page
      .getByRole('table', { name: 'Rules' })
      .getByRole('cell', { name: '^0([1-9][0-9]+)$', exact: true })
      .waitFor();
    await page.getByLabel('Number').fill('030123456');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    expect(await page.getByTestId('rewrite-output').textContent()).toBe('+4930123456');
    await page
      .getByRole('table', { name: 'Rule trace' })
      .getByRole('cell', { name: 'yes', exact: true })
      .waitFor();
    await snap('rewrite-rules');

    await open('Peering', 'Peering');
    await page.getByLabel('New group name').fill('carrier-a');
    await page.getByRole('button', { name: 'Add group' }).click();
    await page.getByLabel('Gateway name').fill('gw-a1');
    await page.getByLabel('Host').fill('127.0.0.1');
    await page.getByRole('button', { name: 'Add gateway' }).click();
    await page
      .getByRole('table', { name: 'Gateways' })
      .getByRole('cell', { name: 'gw-a1', exact: true })
      .waitFor();
    await page.getByRole('button', { name: 'Edit gateway gw-a1' }).click();
    const gateway = page.getByRole('form', { name: 'Edit gateway gw-a1' });
    await gateway.getByLabel('Port', { exact: true }).fill('5080');
    await gateway.getByRole('button', { name: 'Save changes' }).click();
    await page
      .getByRole('table', { name: 'Gateways' })
      .getByRole('cell', { name: 'udp:127.0.0.1:5080', exact: true })
      .waitFor();
    await page.getByLabel('Callee prefix').fill('49');
    await page.getByRole('button', { name: 'Add rule', exact: true }).click();
    await page
      .getByRole('table', { name: 'Routing rules' })
      .getByRole('cell', { name: '49', exact: true })
      .waitFor();
    await page.getByLabel('Callee (E.164)').fill('+4930123456');
    await page.getByRole('button', { name: 'Find route' }).click();
    await page
      .getByRole('table', { name: 'Gateways in failover order' })
      .getByRole('cell', { name: 'gw-a1', exact: true })
      .waitFor();
    await snap('peering');

    await open('IP bans', 'IP bans');
    await page.getByLabel('Address or network').fill('192.0.2.66');
    await page.getByLabel('Reason').fill('SIP scanner');
    await page.getByRole('button', { name: 'Ban' }).click();
    await page
      .getByRole('table', { name: 'IP bans' })
      .getByRole('cell', { name: '192.0.2.66', exact: true })
      .waitFor();
    await snap('ip-bans');

    await open('Audit log', 'Audit log');
    await page
      .getByRole('table', { name: 'Audit log' })
      .getByRole('cell', { name: 'ip-bans' })
      .first()
      .waitFor();
    await snap('audit-log');
  });
});

describe('operator accounts', () => {
  it('creates and renames a reseller, and gives it a login that can be disabled', async () => {
    await open('Resellers', 'Resellers');
    await page.getByText('No resellers: the operator runs every customer itself.').waitFor();
    await page.getByLabel('Name').fill('Wholesale One');
    await page.getByRole('button', { name: 'Create reseller' }).click();
    await page
      .getByRole('table', { name: 'Resellers' })
      .getByRole('cell', { name: 'Wholesale One', exact: true })
      .waitFor();
    await page.getByRole('button', { name: 'Edit Wholesale One' }).click();
    const reseller = page.getByRole('form', { name: 'Edit reseller Wholesale One' });
    await reseller.getByLabel('Name').fill('Wholesale Uno');
    await reseller.getByRole('button', { name: 'Save changes' }).click();
    await page
      .getByRole('table', { name: 'Resellers' })
      .getByRole('cell', { name: 'Wholesale Uno', exact: true })
      .waitFor();
    await snap('resellers');

    await open('Users', 'Users');
    await page
      .getByRole('table', { name: 'Users' })
      .getByRole('cell', { name: OPERATOR.email, exact: true })
      .waitFor();
    const create = page.getByRole('form', { name: 'New user' });
    await create.getByLabel('E-mail').fill('uno@example.net');
    await create.getByLabel('Password', { exact: true }).fill('reseller password 1');
    await create.getByLabel('Role').selectOption('reseller');
    await create.getByLabel('Reseller').selectOption({ label: 'Wholesale Uno' });
    await create.getByRole('button', { name: 'Create user' }).click();
    const users = page.getByRole('table', { name: 'Users' });
    await users.getByRole('cell', { name: 'reseller Wholesale Uno', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit uno@example.net' }).click();
    const edit = page.getByRole('form', { name: 'Edit user uno@example.net' });
    await edit.getByLabel('May sign in').uncheck();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await users
      .getByRole('row')
      .filter({ hasText: 'uno@example.net' })
      .getByRole('cell', { name: 'disabled', exact: true })
      .waitFor();
    await snap('users');
    const stored = await platform.prisma.user.findFirstOrThrow({ where: { email: 'uno@example.net' } });
    expect(stored.enabled).toBe(false);
    expect(stored.role).toBe('reseller');
  });
});

describe('customer', () => {
  it('signs up, sees SIP credentials, sets a call forward and sees the call history', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await page.getByRole('link', { name: /Sign up/ }).click();
    await page.getByLabel('SIP domain').selectOption(DOMAIN);
    await page.getByLabel('Company or name').fill('Bob Home');
    await page.getByLabel('E-mail').fill('bob@example.org');
    await page.getByLabel('Password', { exact: true }).fill('bob password 123');
    await page.getByLabel('SIP user name').fill('bob');
    await snap('signup');
    await page.getByRole('button', { name: 'Sign up' }).click();

    await page.getByRole('heading', { level: 1, name: 'My phones' }).waitFor();
    const sipPassword = await page.getByTestId('sip-password').textContent();
    expect(sipPassword?.length).toBeGreaterThanOrEqual(12);
    await page.getByRole('button', { name: 'Set up a softphone with a QR code' }).waitFor();
    expect(await page.getByLabel('Provisioning text').textContent()).toContain(`Password: ${sipPassword}`);
    await snap('portal-phones');

    await open('Call forwards', 'Call forwards');
    await page.getByLabel('Phone').selectOption({ label: `sip:bob@${DOMAIN}` });
    await page.getByLabel('When').selectOption('cfb');
    await page.getByLabel('Forward to').fill('+4930555666');
    await page.getByRole('button', { name: 'Save forward' }).click();
    await page
      .getByRole('table', { name: 'Call forwards' })
      .getByRole('cell', { name: '+4930555666', exact: true })
      .waitFor();
    await snap('portal-forwards');

    const bob = await platform.prisma.subscriber.findFirstOrThrow({
      where: { username: 'bob' },
      include: { customer: true },
    });
    expect(bob.customer.name).toBe('Bob Home');
    const forwards = await platform.prisma.callForward.findMany({ where: { subscriberId: bob.id } });
    expect(forwards.map((f) => f.type)).toEqual(['cfb']);

    // Alice's calls belong to another customer: the portal must not show them.
    await open('Call history', 'Call history');
    await page.getByText('No calls match.').waitFor();
    await snap('portal-history');

    await open('Password', 'Change password');
    await snap('portal-password');
    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password', { exact: true }).fill('bob new password 456');
    await page.getByLabel('Repeat new password').fill('bob new password 456');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong password' }).waitFor();
    await page.getByLabel('Current password').fill('bob password 123');
    await page.getByRole('button', { name: 'Change password' }).click();
    // Every session ended with the change: the app is on the sign-in page, saying why.
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
    await signIn('bob@example.org', 'bob new password 456');
    await page.getByRole('heading', { level: 1, name: 'My phones' }).waitFor();
  });

  it('ran without a security-policy violation or a script error', () => {
    expect(pageProblems).toEqual([]);
  });
});
