import { base32Decode, hotp, totpStep } from '@switchboard/api';
import { linkIn, startLinphonecProvisioned } from '@switchboard/testkit';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn as signInAs, snapBothWidths } from './browser.ts';
import { OPERATOR, type Platform, startPlatform } from './platform.ts';
import { readQr } from './qr.ts';

// Items of the portal and of web sign-in that need e-mail: sign-up with an e-mailed check, adding phones and
// setting up a softphone by QR code, a new SIP password, password reset, TOTP two-factor sign-in.
const OPEN = 'open.example.test';
const CLOSED = 'closed.example.test';
const CUSTOMER = { email: 'erin@example.org', password: 'erin password 123' };

let platform: Platform;
let page: Page;
const pageProblems: string[] = [];

const snap = (name: string) => snapBothWidths(platform, page, name);

const signIn = (email: string, password: string) => signInAs(platform, page, email, password);

async function open(label: string, heading: string) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  if (!(await nav.isVisible())) await page.getByRole('button', { name: 'Toggle navigation' }).click();
  await nav.getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** What an authenticator app shows for `secret`, `offset` steps from now. */
const totp = (secret: string, offset = 0) => hotp(base32Decode(secret), totpStep(Date.now()) + offset);

beforeAll(async () => {
  platform = await startPlatform('accounts', {}, { min: 47200, max: 47259 });
  page = platform.page;
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) pageProblems.push(message.text());
  });
  page.on('pageerror', (error) => pageProblems.push(error.message));
  await platform.prisma.domain.create({ data: { name: OPEN, selfSignup: true } });
  await platform.prisma.domain.create({ data: { name: CLOSED } });
});

afterAll(async () => {
  await platform?.close();
});

describe('self sign-up (item 12)', () => {
  it('offers only open domains, and the SIP service starts with the e-mailed link', async () => {
    await page.goto(`${platform.baseUrl}/signup`);
    const domain = page.getByLabel('SIP domain');
    await domain.locator(`option[value="${OPEN}"]`).waitFor({ state: 'attached' });
    const offered = await domain
      .locator('option')
      .evaluateAll((o) => o.map((e) => (e as HTMLOptionElement).value));
    expect(offered).toEqual(['', OPEN]);
    await domain.selectOption(OPEN);
    await page.getByLabel('Company or name').fill('Erin Works');
    await page.getByLabel('E-mail').fill(CUSTOMER.email);
    await page.getByLabel('Password', { exact: true }).fill(CUSTOMER.password);
    await page.getByLabel('SIP user name').fill('erin');
    await snap('signup-picker');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { level: 1, name: 'My phones' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Check your e-mail' }).waitFor();
    await page.getByText('Phone service is off').waitFor();
    const customer = await platform.prisma.customer.findFirstOrThrow({ where: { name: 'Erin Works' } });
    expect(customer.status).toBe('locked');

    const mail = await platform.smtp.waitFor(CUSTOMER.email, 'Confirm');
    await page.goto(linkIn(mail, '/verify-email').toString());
    await page.getByRole('heading', { name: 'Confirm your e-mail address' }).waitFor();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${CUSTOMER.email} is confirmed` })
      .waitFor();
    await snap('verify-email');
    expect((await platform.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).status).toBe(
      'active',
    );
  });
});

describe('portal phones (items 10, 11)', () => {
  it('shows the connection details, the numbers, and adds a phone within the limit', async () => {
    const erin = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'erin' } });
    await platform.prisma.phoneNumber.create({
      data: {
        subscriberId: erin.id,
        e164: '+43720555001',
        countryCode: '43',
        areaCode: '720',
        subscriberNumber: '555001',
        isPrimary: true,
      },
    });
    await platform.prisma.customer.update({ where: { id: erin.customerId }, data: { maxSubscribers: 2 } });
    await page.goto(`${platform.baseUrl}/portal`);
    const details = page.getByRole('table', { name: 'Connection details' });
    const port = platform.sipAddress.split(':')[1] ?? '';
    await details.getByRole('cell', { name: '127.0.0.1', exact: true }).waitFor();
    await details.getByRole('cell', { name: `port ${port}`, exact: true }).waitFor();
    await page
      .getByLabel(`Numbers of sip:erin@${OPEN}`)
      .filter({ hasText: '+43720555001 (primary)' })
      .waitFor();
    await page.getByText('1 of 2 phones your contract allows.').waitFor();

    const add = page.getByRole('form', { name: 'Add a phone' });
    // The domain list loads after the form; the choice follows it.
    await expect.poll(() => add.getByLabel('Domain').inputValue()).toBe(erin.domainId);
    await add.getByLabel('SIP user name').fill('desk');
    await add.getByLabel('Name on the phone').fill('Desk phone');
    await add.getByRole('button', { name: 'Add phone' }).click();
    await page.getByRole('heading', { name: `sip:desk@${OPEN}` }).waitFor();
    await page.getByText('2 of 2 phones your contract allows.').waitFor();
    expect(await add.getByRole('button', { name: 'Add phone' }).isDisabled()).toBe(true);
    await snap('portal-phones-added');
    const desk = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'desk' } });
    expect(desk.customerId).toBe(erin.customerId);
  });

  it('sets up a softphone from a single-use QR link, for its own phones only', async () => {
    const desk = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'desk' } });
    const card = page.locator('.mantine-Card-root').filter({ hasText: `sip:desk@${OPEN}` });
    await card.getByRole('button', { name: 'Set up a softphone with a QR code' }).click();
    const qr = card.getByRole('img', { name: `QR code to set up a softphone for sip:desk@${OPEN}` });
    await qr.waitFor();
    await snap('portal-provisioning');
    const url = await readQr(qr);
    expect(url).toMatch(new RegExp(`^${platform.baseUrl}/api/v1/provisioning/`));
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const xml = await first.text();
    expect(xml).toContain('<config xmlns="http://www.linphone.org/xsds/lpconfig.xsd"');
    expect(xml).toContain(`&lt;sip:desk@${OPEN}&gt;`);
    expect(xml).toContain(`&lt;sip:127.0.0.1:${platform.sipAddress.split(':')[1]};transport=udp&gt;`);
    expect(xml).toContain(`<entry name="ha1" overwrite="true">${desk.ha1Md5}</entry>`);
    expect((await fetch(url)).status).toBe(404);

    // Another customer's subscriber: not found for this customer, also when asked by hand.
    const other = await platform.prisma.customer.create({ data: { name: 'Someone Else' } });
    const domain = await platform.prisma.domain.findFirstOrThrow({ where: { name: OPEN } });
    const stranger = await platform.prisma.subscriber.create({
      data: {
        customerId: other.id,
        domainId: domain.id,
        username: 'stranger',
        ha1Md5: 'x'.repeat(32),
        ha1Sha256: 'y'.repeat(64),
      },
    });
    const status = await page.evaluate(async (id) => {
      const csrf = document.cookie.match(/sb_csrf=([^;]+)/)?.[1] ?? '';
      const res = await fetch(`/api/v1/subscribers/${id}/provisioning`, {
        method: 'POST',
        headers: { 'x-csrf-token': decodeURIComponent(csrf) },
      });
      return res.status;
    }, stranger.id);
    expect(status).toBe(404);
  });

  it('lets a real softphone import the link of the QR code and register with the platform', async () => {
    const desk = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'desk' } });
    const card = page.locator('.mantine-Card-root').filter({ hasText: `sip:desk@${OPEN}` });
    const shown = card.getByText(/\/api\/v1\/provisioning\//);
    const spent = await shown.textContent();
    await card.getByRole('button', { name: 'New set-up QR code' }).click();
    await expect.poll(() => shown.textContent()).not.toBe(spent);
    const url = (await shown.textContent()) ?? '';
    const qr = card.getByRole('img', { name: `QR code to set up a softphone for sip:desk@${OPEN}` });
    // What the phone scans is what the page shows.
    await expect.poll(() => readQr(qr).catch(() => '')).toBe(url);
    const phone = await startLinphonecProvisioned(url);
    try {
      // linphonec fetches the XML, registers through the advertised registrar, answers the challenge with
      // the HA1 from the document.
      await expect
        .poll(() => platform.prisma.registration.count({ where: { subscriberId: desk.id } }), {
          timeout: 20_000,
          interval: 500,
        })
        .toBe(1);
      const binding = await platform.prisma.registration.findFirstOrThrow({
        where: { subscriberId: desk.id },
      });
      expect(binding.aor).toBe(`sip:desk@${OPEN}`);
      expect(binding.transport).toBe('udp');
    } finally {
      phone.stop();
    }
    // The phone used the link: it is spent.
    expect((await fetch(url)).status).toBe(404);
  });

  it('asks before generating a new SIP password and says the phones must be updated', async () => {
    const before = await platform.prisma.subscriber.findFirstOrThrow({ where: { username: 'desk' } });
    const card = page.locator('.mantine-Card-root').filter({ hasText: `sip:desk@${OPEN}` });
    const shown = await card.getByTestId('sip-password').textContent();
    await card.getByRole('button', { name: 'Generate a new SIP password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Generate a new SIP password?' });
    await dialog.getByText('must be updated with the new password').waitFor();
    await snap('portal-new-sip-password');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await platform.prisma.subscriber.findUniqueOrThrow({ where: { id: before.id } })).ha1Md5).toBe(
      before.ha1Md5,
    );
    await card.getByRole('button', { name: 'Generate a new SIP password' }).click();
    await dialog.getByRole('button', { name: 'Generate and replace' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => card.getByTestId('sip-password').textContent()).not.toBe(shown);
    const after = await platform.prisma.subscriber.findUniqueOrThrow({ where: { id: before.id } });
    expect(after.ha1Md5).not.toBe(before.ha1Md5);
  });

  it('goes to the sign-in page after a password change', async () => {
    await open('Password', 'Change password');
    await page.getByLabel('Current password').fill(CUSTOMER.password);
    await page.getByLabel('New password', { exact: true }).fill('erin changed pw 456');
    await page.getByLabel('Repeat new password').fill('erin changed pw 456');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
    await snap('login-after-password-change');
    CUSTOMER.password = 'erin changed pw 456';
  });
});

describe('password reset and two-factor sign-in (item 8)', () => {
  it('resets a forgotten password through the e-mailed link', async () => {
    await page.goto(`${platform.baseUrl}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('E-mail').fill(CUSTOMER.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('status').filter({ hasText: 'If this address has a login' }).waitFor();
    await snap('forgot-password');
    const mail = await platform.smtp.waitFor(CUSTOMER.email, 'new Switchboard password');
    await page.goto(linkIn(mail, '/reset-password').toString());
    await page.getByLabel('New password', { exact: true }).fill('erin reset pw 789');
    await page.getByLabel('Repeat new password').fill('erin reset pw 789');
    await snap('reset-password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').filter({ hasText: 'Password set' }).waitFor();
    CUSTOMER.password = 'erin reset pw 789';
    await signIn(CUSTOMER.email, CUSTOMER.password);
    await page.getByRole('heading', { level: 1, name: 'My phones' }).waitFor();
  });

  it('enrols an authenticator from the QR code and then asks for its code after the password', async () => {
    await open('Two-factor sign-in', 'Two-factor sign-in');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
    const uri = new URL(await readQr(qr));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    await snap('two-factor-enrol');
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Confirm and switch on' }).click();
    const codes = ((await page.getByTestId('recovery-codes').textContent()) ?? '').match(/[0-9a-f-]{19}/g);
    expect(codes).toHaveLength(10);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByText(/^On since/).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(CUSTOMER.email, CUSTOMER.password);
    const code = page.getByLabel('Authenticator code');
    await code.waitFor();
    await code.fill('000000');
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong or already used code' }).waitFor();
    await snap('login-code');
    // The code of the next step: the current one was spent on the confirmation.
    await code.fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByRole('heading', { level: 1, name: 'My phones' }).waitFor();
  });

  it('lets the operator require it of operators, who then can only enrol', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(OPERATOR.email, OPERATOR.password);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await open('Settings', 'Settings');
    const change = page.getByRole('form', { name: 'Change web.requireTwoFactor' });
    await change.getByLabel('web.requireTwoFactor').check();
    await change.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => platform.prisma.setting.findUnique({ where: { id: 'web.requireTwoFactor' } }))
      .toMatchObject({ value: true });
    // The API reads the policy again within seconds; the next page load shows the enrolment only.
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole('heading', { level: 1 }).first().waitFor();
          return page.getByRole('heading', { level: 1 }).first().textContent();
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toBe('Two-factor sign-in');
    await page.getByText('Required for your role').waitFor();
    await snap('two-factor-required');
    // Nothing but the enrolment answers this operator now.
    const status = await page.evaluate(async () => (await fetch('/api/v1/customers')).status);
    expect(status).toBe(403);
    await platform.prisma.setting.delete({ where: { id: 'web.requireTwoFactor' } });
  });

  it('ran without a security-policy violation or a script error', () => {
    expect(pageProblems).toEqual([]);
  });
});
