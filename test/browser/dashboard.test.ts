import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startDevServer } from '../../scripts/dev-server.ts';
import type { DevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';

const require = createRequire(import.meta.url);
const SHOTS = path.join(ROOT, '.cache', 'screenshots');

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

async function open(pathname: string, scheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; scriptBytes: number }> {
  const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let scriptBytes = 0;
  page.on('response', async (res) => {
    if (res.request().resourceType() === 'script') scriptBytes += (await res.body().catch(() => Buffer.alloc(0))).length;
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + pathname, { waitUntil: 'networkidle' });
  expect(errors).toEqual([]);
  return { page, scriptBytes };
}

describe('dashboard page', () => {
  it('lists the catalog and each dependency, server-rendered', async () => {
    const { page, scriptBytes } = await open('/');
    await expect(page.title()).resolves.toContain('Command Center');
    const cards = page.locator('[data-testid="metric-list"] > li');
    expect(await cards.count()).toBe(13);
    await expect(page.locator('[data-metric="cost_avoided_mtd"] h3').textContent()).resolves.toContain('Cost avoided');
    for (const dep of ['postgres', 'redis', 'databricks', 'bedrock']) {
      await expect(page.locator(`[data-dependency="${dep}"]`).getAttribute('data-status')).resolves.toBe('ok');
    }
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-light.png'), fullPage: true });
    console.log(`first view JavaScript: ${(scriptBytes / 1024).toFixed(1)} KiB`);
    expect(scriptBytes).toBeLessThan(60 * 1024);
    await page.context().close();
  });

  it('passes an automated accessibility check in light and dark mode', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const { page } = await open('/', scheme);
      await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
      const violations = await page.evaluate(async () => {
        const result = await (window as unknown as { axe: { run: () => Promise<{ violations: Array<{ id: string; help: string; nodes: unknown[] }> }> } }).axe.run();
        return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
      });
      expect(violations, `${scheme} mode`).toEqual([]);
      if (scheme === 'dark') await page.screenshot({ path: path.join(SHOTS, 'dashboard-dark.png'), fullPage: true });
      await page.context().close();
    }
  });

  it('serves the API on the same origin', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    const docs = await fetch(`${server.url}/docs`);
    expect(await docs.text()).toContain('/v1/metrics');
  });
});
