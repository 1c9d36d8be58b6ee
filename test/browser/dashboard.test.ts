import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startDevServer } from '../../scripts/dev-server.ts';
import type { DevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import { LOCAL_USERS } from '../stack/users.ts';

const require = createRequire(import.meta.url);
const SHOTS = path.join(ROOT, '.cache', 'screenshots');
const user = (role: 'admin' | 'editor' | 'viewer') => LOCAL_USERS.find((u) => u.role === role)!;

let server: DevServer;
let browser: Browser;

beforeAll(async () => {
  server = await startDevServer({ port: await freePort(), purpose: 'browser' });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Session {
  context: BrowserContext;
  page: Page;
  errors: string[];
  scriptBytes: () => number;
}

/** A fresh browser context that records page errors, CSP violations and script bytes. */
async function session(scheme: 'light' | 'dark' = 'light', options: { bypassCSP?: boolean } = {}): Promise<Session> {
  // Only the accessibility check bypasses CSP: it injects axe as an inline script.
  const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 }, bypassCSP: options.bypassCSP ?? false });
  const page = await context.newPage();
  const errors: string[] = [];
  let bytes = 0;
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
  });
  page.on('response', async (res) => {
    if (res.request().resourceType() === 'script') bytes += (await res.body().catch(() => Buffer.alloc(0))).length;
  });
  return { context, page, errors, scriptBytes: () => bytes };
}

async function signIn(s: Session, role: 'admin' | 'editor' | 'viewer') {
  await s.page.goto(`${server.url}/`);
  await s.page.waitForURL(/\/sign-in\?next=/);
  await s.page.fill('#email', user(role).email);
  await s.page.fill('#password', user(role).password);
  await Promise.all([s.page.waitForURL(`${server.url}/`), s.page.click('button[type="submit"]')]);
  await s.page.waitForLoadState('networkidle');
}

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  return page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: () => Promise<{ violations: Array<{ id: string; help: string; nodes: unknown[] }> }> } }).axe.run();
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  });
}

describe('signing in', () => {
  it('sends an anonymous visitor to the sign-in page and refuses a wrong password', async () => {
    const s = await session();
    await s.page.goto(`${server.url}/admin/tokens`);
    expect(s.page.url()).toContain('/sign-in?next=%2Fadmin%2Ftokens');
    await s.page.fill('#email', user('viewer').email);
    await s.page.fill('#password', 'wrong password');
    await s.page.click('button[type="submit"]');
    await expect(s.page.locator('[data-testid="sign-in-error"]').textContent()).resolves.toContain('incorrect');
    await s.page.screenshot({ path: path.join(SHOTS, 'sign-in-error.png') });
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  for (const role of ['viewer', 'editor', 'admin'] as const) {
    it(`shows a ${role} the dashboard and only what a ${role} may do`, async () => {
      const s = await session();
      await signIn(s, role);
      await expect(s.page.locator('[data-testid="current-user"] .role').textContent()).resolves.toBe(role);
      expect(await s.page.locator('[data-testid="metric-list"] > li').count()).toBe(13);
      const tokensLink = s.page.locator('nav a[href="/admin/tokens"]');
      expect(await tokensLink.count()).toBe(role === 'admin' ? 1 : 0);

      const res = await s.page.goto(`${server.url}/admin/tokens`);
      if (role === 'admin') {
        expect(res?.status()).toBe(200);
        await s.page.fill('#name', `browser-${Date.now()}`);
        await s.page.click('form.stack-form button[type="submit"]');
        await expect(s.page.locator('[data-testid="new-token"] code').textContent()).resolves.toMatch(/^cc_/);
        await s.page.screenshot({ path: path.join(SHOTS, 'admin-tokens.png'), fullPage: true });
      } else {
        expect(res?.status()).toBe(403);
      }

      await s.page.goto(`${server.url}/`);
      await Promise.all([s.page.waitForURL(/\/sign-in/), s.page.click('button.link')]);
      await s.page.goto(`${server.url}/`);
      expect(s.page.url()).toContain('/sign-in');
      expect(s.errors, s.errors.join('\n')).toEqual([]);
      await s.context.close();
    });
  }
});

describe('dashboard page', () => {
  it('lists the catalog and each dependency, server-rendered, with little JavaScript', async () => {
    const s = await session();
    await signIn(s, 'viewer');
    await expect(s.page.title()).resolves.toContain('Command Center');
    await s.page.screenshot({ path: path.join(SHOTS, 'dashboard-after-sign-in.png'), fullPage: true });
    await expect(s.page.locator('[data-metric="cost_avoided_mtd"] h3').textContent()).resolves.toContain('Cost avoided');
    for (const dep of ['postgres', 'redis', 'databricks', 'bedrock']) {
      await expect(s.page.locator(`[data-dependency="${dep}"]`).getAttribute('data-status')).resolves.toBe('ok');
    }
    const csp = (await s.page.goto(`${server.url}/`))?.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(/script-src 'self'( 'sha256-[^']+')+;/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    await s.page.screenshot({ path: path.join(SHOTS, 'dashboard-light.png'), fullPage: true });
    console.log(`first view JavaScript: ${(s.scriptBytes() / 1024).toFixed(1)} KiB`);
    expect(s.scriptBytes()).toBeLessThan(60 * 1024);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('passes an automated accessibility check in light and dark mode', async () => {
    const signInPage = await session('light', { bypassCSP: true });
    await signInPage.page.goto(`${server.url}/sign-in`);
    expect(await axe(signInPage.page), 'sign-in page').toEqual([]);
    await signInPage.context.close();
    for (const scheme of ['light', 'dark'] as const) {
      const s = await session(scheme, { bypassCSP: true });
      await signIn(s, 'admin');
      expect(await axe(s.page), `${scheme} mode`).toEqual([]);
      if (scheme === 'dark') await s.page.screenshot({ path: path.join(SHOTS, 'dashboard-dark.png'), fullPage: true });
      await s.context.close();
    }
  });

  it('serves the API on the same origin with hardened headers', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    const page = await fetch(`${server.url}/sign-in`);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const docs = await fetch(`${server.url}/docs`);
    expect(await docs.text()).toContain('/v1/metrics');
  });
});
