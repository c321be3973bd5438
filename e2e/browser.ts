/**
 * Chromium for Waymark's browser tests, driven by playwright-core against a system Chromium
 * (Debian's `chromium` package). Playwright's own browser downloads are never used.
 *
 * A missing browser is a failure, never a skip: `launchBrowser()` throws a
 * `BrowserUnavailableError` that says how to install Chromium.
 */
import { accessSync, constants } from 'node:fs';
import { type Browser, type ConsoleMessage, chromium, type Page } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

export class BrowserUnavailableError extends Error {
  override name = 'BrowserUnavailableError';
}

/** The Chromium binary the tests use: `$WAYMARK_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export function chromiumExecutable(): string {
  const fromEnv = process.env.WAYMARK_CHROMIUM;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CHROMIUM;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function missingMessage(path: string): string {
  const lines = [
    `Chromium was not found (or is not executable) at ${path}.`,
    'Browser tests need a system Chromium: run `apt-get update && apt-get install -y chromium`,',
    'or point WAYMARK_CHROMIUM at a Chromium/Chrome binary. (`npx playwright install` is not used.)',
  ];
  return lines.join('\n');
}

/** A page plus everything that went wrong on it: console errors, uncaught errors, failed requests. */
export interface TrackedPage {
  page: Page;
  /** Human-readable problems, in the order they happened. Assert this is empty. */
  problems: string[];
}

export interface BrowserSession {
  browser: Browser;
  newPage(options?: {
    viewport?: { width: number; height: number };
    colorScheme?: 'light' | 'dark';
  }): Promise<TrackedPage>;
  close(): Promise<void>;
}

function describeConsole(message: ConsoleMessage): string {
  const { url, lineNumber } = message.location();
  const where = url ? ` (${url}:${lineNumber})` : '';
  return `console.${message.type()}: ${message.text()}${where}`;
}

/**
 * Launches headless Chromium with a fresh, throwaway profile (Playwright's `launch` creates a
 * temporary user-data-dir and deletes it on close). Throws `BrowserUnavailableError` when the
 * executable is missing or fails to start.
 */
export async function launchBrowser(): Promise<BrowserSession> {
  const executablePath = chromiumExecutable();
  if (!isExecutable(executablePath))
    throw new BrowserUnavailableError(missingMessage(executablePath));

  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 30_000,
    });
  } catch (error) {
    throw new BrowserUnavailableError(
      `Chromium at ${executablePath} failed to start: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({
        viewport: options.viewport ?? { width: 1280, height: 800 },
        colorScheme: options.colorScheme ?? 'light',
        reducedMotion: 'reduce',
      });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(describeConsole(message));
      });
      page.on('pageerror', (error) => {
        problems.push(`pageerror: ${error.stack ?? error.message}`);
      });
      page.on('requestfailed', (request) => {
        problems.push(
          `requestfailed: ${request.method()} ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`,
        );
      });
      return { page, problems };
    },
    async close() {
      await browser.close();
    },
  };
}
