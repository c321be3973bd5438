import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer } from '@waymark/server';
import { createTestDatabase } from '@waymark/server/testing';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type BrowserSession, launchBrowser } from './browser.js';

interface Site {
  url: string;
  close(): Promise<void>;
}

const webDist = fileURLToPath(new URL('../packages/web/dist/', import.meta.url));

/** Set WAYMARK_E2E_SCREENSHOTS=/some/dir to save screenshots for a human to look at. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.WAYMARK_E2E_SCREENSHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/**
 * The few browser globals the in-page callbacks use. tsconfig.tests.json is a Node program
 * without the DOM lib, so these callbacks read `globalThis` through this narrow type.
 */
interface InPage {
  document: {
    activeElement: { tagName: string; getAttribute(name: string): string | null } | null;
    documentElement: { scrollWidth: number; clientWidth: number };
  };
  getComputedStyle(element: unknown): { outlineStyle: string; outlineWidth: string };
}

describe('dashboard in Chromium, served by Waymark', () => {
  // Started lazily and shared by the tests, so that a missing build or browser fails every
  // test with its descriptive error (a failing beforeAll would report the tests as skipped).
  let serving: Promise<Site> | undefined;
  let launching: Promise<BrowserSession> | undefined;

  /** The real server on loopback, over a fresh SQLite file, serving the built dashboard. */
  async function serveDist(): Promise<Site> {
    if (!existsSync(join(webDist, 'index.html'))) {
      throw new Error(
        `${webDist}index.html is missing: run \`npm run build -w @waymark/web\` before the e2e tests.`,
      );
    }
    const database = await createTestDatabase('sqlite');
    const app = await buildServer({ database, logLevel: 'silent', webRoot: webDist });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url,
      close: async () => {
        await app.close();
        await database.drop();
      },
    };
  }

  /** Opens `/` in a fresh browser context and waits for the app to render its h1. */
  async function openHome(options?: Parameters<BrowserSession['newPage']>[0]) {
    serving ??= serveDist();
    launching ??= launchBrowser();
    const [site, session] = await Promise.all([serving, launching]);
    const tracked = await session.newPage(options);
    const response = await tracked.page.goto(`${site.url}/`, { waitUntil: 'load' });
    await tracked.page.getByRole('heading', { level: 1 }).waitFor();
    return { ...tracked, response };
  }

  afterAll(async () => {
    const ignore = () => undefined;
    await launching?.then((session) => session.close(), ignore);
    await serving?.then((site) => site.close(), ignore);
  });

  it('renders the placeholder with a title, one main landmark, an h1 and the API links', async () => {
    const { page, problems, response } = await openHome();
    expect(response?.status()).toBe(200);
    // Served with a strict policy: an inline script or style would show up in `problems`.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    expect(await page.title()).toBe('Waymark');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');

    const main = page.getByRole('main');
    expect(await main.count()).toBe(1);
    const h1 = main.getByRole('heading', { level: 1 });
    await h1.waitFor();
    expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
    expect((await h1.textContent())?.trim()).toBe('Waymark');

    expect(await main.textContent()).toContain(
      'Customer onboarding milestones, tracked from product usage and verified by your customers.',
    );
    expect(await main.getByRole('heading', { level: 2 }).textContent()).toMatch(/arrives soon/);
    expect(await main.locator('a[href="/api/docs"]').count()).toBe(1);
    expect(await main.locator('a[href="/healthz"]').count()).toBe(1);
    expect(await main.getByRole('link', { name: 'API reference' }).getAttribute('href')).toBe(
      '/api/docs',
    );

    const health = await page.request.get(new URL('/healthz', page.url()).toString());
    expect(await health.json()).toMatchObject({ status: 'ok' });

    await screenshot(page, 'dashboard-light');
    expect(problems).toEqual([]);
  });

  it('moves keyboard focus to the first link on Tab, with a visible focus ring', async () => {
    const { page, problems } = await openHome();

    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const { document, getComputedStyle } = globalThis as unknown as InPage;
      const el = document.activeElement;
      if (el?.tagName !== 'A' || !el) return null;
      const style = getComputedStyle(el);
      return {
        href: el.getAttribute('href'),
        outlineStyle: style.outlineStyle,
        outlineWidth: style.outlineWidth,
      };
    });
    expect(focused).not.toBeNull();
    expect(focused?.href).toBe('/api/docs');
    expect(focused?.outlineStyle).not.toBe('none');
    expect(focused?.outlineWidth).not.toBe('0px');

    await screenshot(page, 'dashboard-focus');
    expect(problems).toEqual([]);
  });

  it('fits a phone-sized screen in dark mode', async () => {
    const { page, problems } = await openHome({
      viewport: { width: 360, height: 740 },
      colorScheme: 'dark',
    });

    const overflow = await page.evaluate(() => {
      const { documentElement } = (globalThis as unknown as InPage).document;
      return documentElement.scrollWidth - documentElement.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);

    await screenshot(page, 'dashboard-phone-dark');
    expect(problems).toEqual([]);
  });
});
