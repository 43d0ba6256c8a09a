/**
 * A real browser for UI tests: Debian's Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH) driven by
 * playwright-core (its own browser download cannot work here), plus an axe-core scan.
 */
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
}

export interface UiSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors, for tests to assert there are none. */
  errors: string[];
}

/** A fresh context (its own sessionStorage) on the app at `url`, signed in with `apiKey` if given. */
export async function openApp(browser: Browser, url: string, apiKey?: string): Promise<UiSession> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  // Which request failed, which the console line does not say.
  page.on('response', (r) => {
    if (r.status() >= 400)
      errors.push(`http ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  await page.goto(url);
  if (apiKey) await signIn(page, apiKey);
  return { context, page, errors };
}

export async function signIn(page: Page, apiKey: string) {
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core on the page and returns its serious and critical violations. The app's CSP allows
 * only 'self' scripts, so a <script> tag with axe's source would be refused: it is evaluated through
 * the DevTools protocol (page.evaluate), which CSP does not govern, and the page's CSP stays in force.
 */
export async function axeScan(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  // A string, evaluated in the page: the tests' TypeScript has no DOM types.
  const results = await page.evaluate<AxeViolation[]>(`axe.run(document).then((r) =>
    r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => String(n.target)),
    })))`);
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** How many entries the page's sessionStorage holds (the API key is the app's only one). */
export const sessionEntries = (page: Page) => page.evaluate<number>('sessionStorage.length');
