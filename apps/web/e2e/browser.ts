import type { Page } from 'playwright-core';
import type { Platform } from './platform.ts';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** Saves the page at desktop and at phone width (as `<name>-desktop` and `<name>-phone`). */
export async function snapBothWidths(platform: Platform, page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await platform.screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  // The shell slides its navigation away below 768 px: shoot once that transition has finished.
  // (A transition the resize cancels rejects its promise with AbortError: it is over too.)
  await page.evaluate(() =>
    Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))),
  );
  await platform.screenshot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

/** Signs in through the login page, as a person would. */
export async function signIn(platform: Platform, page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${platform.baseUrl}/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Polls `read` (bounded) until it yields a value. */
export async function eventually<T>(
  read: () => Promise<T | null | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
