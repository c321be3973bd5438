import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer, createAuthService, systemClock } from '@waymark/server';
import { createTestDatabase, type TestDatabase } from '@waymark/server/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSession, launchBrowser, type TrackedPage } from './browser.js';

const webDist = fileURLToPath(new URL('../packages/web/dist/', import.meta.url));
const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', password: 'a long enough passphrase' };

/** Set WAYMARK_E2E_SCREENSHOTS=/some/dir to save screenshots for a human to look at. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.WAYMARK_E2E_SCREENSHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/**
 * Chromium reports every 4xx answer to a fetch as a console error. The pages below
 * meet exactly these on purpose (no session yet, a wrong password); anything else is a problem.
 */
function unexpected(problems: string[]): string[] {
  return problems.filter(
    (p) => !/Failed to load resource: the server responded with a status of 401/.test(p),
  );
}

describe('the dashboard in Chromium, served by Waymark', () => {
  let database: TestDatabase;
  let url: string;
  let close: () => Promise<void>;
  let browser: BrowserSession;

  beforeAll(async () => {
    if (!existsSync(join(webDist, 'index.html'))) {
      throw new Error(
        `${webDist}index.html is missing: run \`npm run build -w @waymark/web\` before the e2e tests.`,
      );
    }
    database = await createTestDatabase('sqlite');
    const app = await buildServer({ database, logLevel: 'silent', webRoot: webDist });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    close = async () => {
      await app.close();
      await database.drop();
    };
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  async function open(
    path: string,
    options?: Parameters<BrowserSession['newPage']>[0],
  ): Promise<TrackedPage> {
    const tracked = await browser.newPage(options);
    const response = await tracked.page.goto(`${url}${path}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    // Every page is served with a strict policy: an inline script or style would show up in `problems`.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    return tracked;
  }

  it('sets up a fresh install from the one-time link, then signs out and in again', async () => {
    const token = await createAuthService({
      db: database.db,
      clock: systemClock,
    }).createSetupToken();
    const { page, problems } = await open(`/setup?token=${token}`);
    expect(await page.title()).toContain('Waymark');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByRole('main').count()).toBe(1);

    await page.getByLabel('Workspace name').fill('Acme Customer Success');
    await page.getByLabel('Your name').fill(ADMIN.name);
    await page.getByLabel('Your email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await screenshot(page, 'setup');
    await page.getByRole('button', { name: /set up/i }).click();

    await page.getByText('Signed in as').waitFor();
    expect(await page.getByRole('main').textContent()).toContain(
      `Signed in as ${ADMIN.name} (admin) in Acme Customer Success`,
    );
    expect(new URL(page.url()).search).not.toContain('token');
    await screenshot(page, 'home');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.getByText('You have signed out').waitFor();

    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/email or password is wrong/i);
    await screenshot(page, 'login-failed');

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as').waitFor();
    expect(unexpected(problems)).toEqual([]);
  });

  it('sends a visitor without a session to the sign-in page, keyboard first', async () => {
    const { page, problems } = await open('/');
    await page.waitForURL(/\/login/);
    await page.getByLabel('Email').waitFor();
    // Every field is reachable by keyboard, in order, and shows where focus is.
    await page.getByLabel('Email').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = (globalThis as unknown as { document: { activeElement: { id: string } | null } })
        .document.activeElement;
      return el?.id ?? null;
    });
    expect(focused).toBe(await page.getByLabel('Password').getAttribute('id'));
    expect(unexpected(problems)).toEqual([]);
  });

  it('fits a phone-sized screen in dark mode', async () => {
    const { page, problems } = await open('/login', {
      viewport: { width: 360, height: 740 },
      colorScheme: 'dark',
    });
    await page.getByLabel('Email').waitFor();
    const overflow = await page.evaluate(() => {
      const { documentElement } = (
        globalThis as unknown as {
          document: { documentElement: { scrollWidth: number; clientWidth: number } };
        }
      ).document;
      return documentElement.scrollWidth - documentElement.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'login-phone-dark');
    expect(unexpected(problems)).toEqual([]);
  });
});
