import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { ROOT, startDevServer } from '../../scripts/dev-server.ts';
import type { DevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import { LOCAL_USERS } from '../stack/users.ts';

/** What the browser tests share: the app under wrangler dev, Debian's Chromium, sessions, sign-in, axe. */
const require = createRequire(import.meta.url);
export const SHOTS = process.env.SCREENSHOT_DIR ?? path.join(ROOT, '.cache', 'screenshots');
export const user = (role: 'admin' | 'editor' | 'viewer') => LOCAL_USERS.find((u) => u.role === role)!;

export interface BrowserApp {
  server: DevServer;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * One app and one Chromium for a test file: started before its tests, closed after them. The
 * callback hands them to the file's own variables.
 */
export function useBrowserApp(started: (app: BrowserApp) => void): void {
  let app: BrowserApp | undefined;
  beforeAll(async () => {
    app = await startBrowserApp();
    started(app);
  });
  afterAll(async () => {
    await app?.close();
  });
}

export async function startBrowserApp(): Promise<BrowserApp> {
  // Many sign-ins from one address and account in a few minutes: the limits are tested elsewhere.
  const server = await startDevServer({ port: await freePort(), purpose: 'browser', vars: { SIGNIN_LIMIT_PER_EMAIL: '200', SIGNIN_LIMIT_PER_IP: '500', BUILDER_MODE: 'offline' } });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  await mkdir(SHOTS, { recursive: true });
  return {
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

export interface Session {
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** Bytes of distinct scripts loaded since the last `resetScripts()`: what one view costs to download. */
  scriptBytes: () => number;
  /** The same scripts gzipped, roughly what travels over the wire. */
  scriptGzipBytes: () => number;
  resetScripts: () => void;
  scriptNames: () => string[];
}

/** A fresh browser context that records page errors, CSP violations and script bytes. */
export async function openSession(browser: Browser, options: BrowserContextOptions): Promise<Session> {
  // Only the accessibility check should bypass CSP: it injects axe as an inline script.
  const context = await browser.newContext({ bypassCSP: false, ...options });
  const page = await context.newPage();
  const errors: string[] = [];
  // Keyed by URL so a script fetched twice (or served again from cache on a reload) counts once.
  const scripts = new Map<string, Buffer>();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
  });
  page.on('response', async (res) => {
    if (res.request().resourceType() === 'script') scripts.set(res.url(), await res.body().catch(() => Buffer.alloc(0)));
  });
  return {
    context,
    page,
    errors,
    scriptBytes: () => [...scripts.values()].reduce((sum, b) => sum + b.length, 0),
    scriptGzipBytes: () => [...scripts.values()].reduce((sum, b) => sum + gzipSync(b).length, 0),
    resetScripts: () => scripts.clear(),
    scriptNames: () => [...scripts.keys()].map((u) => u.split('/').pop()!),
  };
}

/** Signs in on the way to `target`, and lands there. */
export async function signInTo(server: DevServer, s: Session, role: 'admin' | 'editor' | 'viewer', target = '/'): Promise<void> {
  await s.page.goto(`${server.url}${target}`);
  await s.page.waitForURL(/\/sign-in\?next=/);
  await s.page.fill('#email', user(role).email);
  await s.page.fill('#password', user(role).password);
  await Promise.all([s.page.waitForURL((u) => u.pathname === target.split('?')[0]), s.page.click('button[type="submit"]')]);
}

export async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  return page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: () => Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run();
    return result.violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}
