/**
 * Headless Chromium (Debian's `chromium`) driven by playwright-core, for the dashboard's
 * end-to-end test and the README screenshots. Every launch gets a fresh profile directory,
 * removed on close, and no background networking, so runs are isolated and fully offline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** `npm test` sets KILN_CHROMIUM to the Chromium it found (or installed); see scripts/test-setup.ts. */
export const CHROMIUM = process.env.KILN_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1360, height: 900 }, deviceScaleFactor = 1): Promise<Browser> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-chromium-'));
  try {
    // launchPersistentContext is how playwright takes a --user-data-dir.
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      deviceScaleFactor,
      timeout: 30_000,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      context,
      page,
      async close() {
        await context.close().catch(() => undefined);
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
}

/** Signs in through the form, as a person would; resolves on the page the form leads to. */
export async function signIn(page: Page, baseUrl: string, token: string, next = '/dashboard'): Promise<void> {
  await page.goto(`${baseUrl}/dashboard/sign-in?next=${encodeURIComponent(next)}`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL((url) => url.pathname === next.split('?')[0]), page.press('#token', 'Enter')]);
}
