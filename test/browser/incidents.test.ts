import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { DevServer } from '../../scripts/dev-server.ts';
import { SHOTS, axe, openSession, signInTo, useBrowserApp } from './harness.ts';
import type { BrowserApp, Session } from './harness.ts';

/**
 * Incident response in the browser: the dashboard's section on two open dashboards while a
 * Database Cascade runs, the incident page (timeline, rollback, approval), the list, and what a
 * viewer may not do. The browser stack runs incidents at a fifth of the seed's timing
 * (INCIDENT_TIME_SCALE=0.2, test/stack/index.ts): three to four seconds each.
 */
const AGENTS = ['detection', 'diagnosis', 'prediction', 'resolution', 'communication'];

let app: BrowserApp;
let server: DevServer;
useBrowserApp((started) => {
  app = started;
  server = started.server;
});

const session = (scheme: 'light' | 'dark' = 'light', options: { bypassCSP?: boolean } = {}) =>
  openSession(app.browser, { colorScheme: scheme, viewport: { width: 1280, height: 900 }, bypassCSP: options.bypassCSP ?? false });

async function signIn(s: Session, role: 'admin' | 'editor' | 'viewer', target = '/') {
  await signInTo(server, s, role, target);
  await s.page.waitForLoadState('networkidle');
}

/** Scrolls the dashboard's incident section into view, which is what loads its island, and waits for it to hydrate. */
async function showIncidents(page: Page) {
  await page.locator('[data-testid="incident-center"]').scrollIntoViewIfNeeded();
  await page.waitForSelector('astro-island:not([ssr]) [data-testid="incident-center"]');
}

/** Opens an incident's page and waits for its island to hydrate, so its buttons answer. */
async function openIncident(page: Page, id: string) {
  await page.goto(`${server.url}/incidents/${id}`);
  await page.waitForSelector('astro-island:not([ssr]) .incident-page');
}

interface Seen {
  feed: Array<{ incident: string; action: string; agent: string; kind: string; step: string | null; status: string }>;
  kpis: Record<string, string[]>;
  impact: string[];
}

/**
 * Records, in the page, every state the feed, the KPI strip and the impact meter pass through:
 * a MutationObserver sees each render, so nothing between two polls is missed.
 */
async function record(page: Page) {
  await page.evaluate(() => {
    const seen: Seen = { feed: [], kpis: {}, impact: [] };
    (window as unknown as { __seen: Seen }).__seen = seen;
    const last = new Map<string, string>();
    const scan = () => {
      for (const li of document.querySelectorAll('[data-testid="incident-feed"] li[data-action]')) {
        const key = `${li.getAttribute('data-incident')}:${li.getAttribute('data-action')}`;
        const status = li.getAttribute('data-status')!;
        if (last.get(key) === status) continue;
        last.set(key, status);
        seen.feed.push({
          incident: li.getAttribute('data-incident')!,
          action: li.getAttribute('data-action')!,
          agent: li.getAttribute('data-agent')!,
          kind: li.getAttribute('data-kind')!,
          step: li.getAttribute('data-step'),
          status,
        });
      }
      for (const card of document.querySelectorAll('[data-testid="kpi-strip"] [data-metric]')) {
        const metric = card.getAttribute('data-metric')!;
        const text = card.querySelector('[data-testid="kpi-value"]')?.textContent ?? '';
        const series = (seen.kpis[metric] ??= []);
        if (series.at(-1) !== text) series.push(text);
      }
      const impact = document.querySelector('[data-testid="impact-value"] [aria-hidden="true"]')?.textContent ?? '';
      if (seen.impact.at(-1) !== impact) seen.impact.push(impact);
    };
    scan();
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}
const seen = (page: Page) => page.evaluate(() => (window as unknown as { __seen: Seen }).__seen);
const money = (text: string) => Number(text.replace(/[^0-9.]/g, ''));

describe('incidents on the dashboard', () => {
  it('keeps the section out of the first view and shows a viewer no buttons', async () => {
    const s = await session();
    await signIn(s, 'viewer');
    s.resetScripts();
    await s.page.reload({ waitUntil: 'networkidle' });
    expect(s.scriptNames().some((n) => n.startsWith('IncidentCenter'))).toBe(false);
    console.log(`dashboard first view: ${(s.scriptBytes() / 1024).toFixed(1)} KiB of JavaScript, ${(s.scriptGzipBytes() / 1024).toFixed(1)} KiB gzipped`);
    expect(s.scriptBytes()).toBeLessThan(96 * 1024);
    expect(s.scriptGzipBytes()).toBeLessThan(33 * 1024);
    s.resetScripts();
    await showIncidents(s.page);
    expect(s.scriptNames().some((n) => n.startsWith('IncidentCenter'))).toBe(true);
    console.log(`incident section, loaded on scroll: ${(s.scriptBytes() / 1024).toFixed(1)} KiB more (${(s.scriptGzipBytes() / 1024).toFixed(1)} KiB gzipped)`);
    await s.page.waitForSelector('[data-testid="service-health"] [data-service="api-gateway"]');
    expect(await s.page.locator('button.scenario').count()).toBe(0);
    const refused = await s.page.request.post(`${server.url}/v1/incidents`, { data: { scenario: 'database_cascade' } });
    expect(refused.status()).toBe(403);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('runs Database Cascade live on two dashboards: every phase in order, the KPIs move and recover, the impact meter counts up, and the timeline tells it', async () => {
    const a = await session();
    const b = await session('dark');
    await signIn(a, 'editor');
    await signIn(b, 'viewer');
    for (const s of [a, b]) {
      await s.page.waitForSelector('[data-testid="connection"][data-state="live"]');
      await showIncidents(s.page);
      await s.page.waitForSelector('[data-testid="impact-value"]');
      await record(s.page);
    }
    expect(await a.page.locator('button.scenario').count()).toBe(4);
    const impactBefore = Number(await a.page.locator('[data-testid="impact-value"]').getAttribute('data-value'));
    const alertsBefore = await a.page.locator('[data-metric="open_alerts"] [data-testid="kpi-value"]').textContent();

    const started = Date.now();
    const [res] = await Promise.all([
      a.page.waitForResponse((r) => r.url().endsWith('/v1/incidents') && r.request().method() === 'POST'),
      a.page.click('button[data-scenario="database_cascade"]'),
    ]);
    expect(res.status()).toBe(202);
    const { incident_id: id } = (await res.json()) as { incident_id: string };
    await a.page.waitForSelector(`[data-incident="${id}"] [data-agent="detection"]:not([data-tone="idle"])`, { timeout: 5_000 });
    await a.page.screenshot({ path: path.join(SHOTS, 'incident-dashboard-running.png'), fullPage: true });
    for (const s of [a, b]) await s.page.waitForSelector(`li.incident-card[data-incident="${id}"][data-status="resolved"]`, { timeout: 30_000 });
    console.log(`Database Cascade resolved on two dashboards ${Date.now() - started} ms after the click`);

    for (const s of [a, b]) {
      const { feed } = await seen(s.page);
      const mine = feed.filter((f) => f.incident === id);
      // Each agent appears once its turn comes, in the seed's order, and ends completed.
      const firstSeen = [...new Set(mine.map((f) => f.agent))];
      expect(firstSeen).toEqual(AGENTS);
      for (const agent of AGENTS) {
        expect(mine.some((f) => f.agent === agent && f.status === 'completed'), `${agent} completed`).toBe(true);
      }
      const steps = mine.filter((f) => f.kind === 'remediation' && f.status === 'completed').map((f) => Number(f.step));
      expect(steps).toEqual([1, 2, 3, 4, 5]);
      expect(mine.some((f) => f.status === 'failed' || f.kind === 'rollback')).toBe(false);
      // A screen reader hears the outcome once, from the section's polite status line.
      await expect(s.page.locator('[data-testid="incident-center"] [role="status"]').textContent()).resolves.toMatch(/^Database connection pool exhaustion: resolved in \d/);
      // Every agent's card on the dashboard ends done.
      for (const agent of AGENTS) {
        await expect(s.page.locator(`li.incident-card[data-incident="${id}"] [data-agent="${agent}"]`).getAttribute('data-tone')).resolves.toBe('done');
      }
    }

    // The strip: open alerts rose with the scenario's alerts and came back once resolution closed them.
    await a.page.waitForFunction(
      (before) => document.querySelector('[data-metric="open_alerts"] [data-testid="kpi-value"]')?.textContent === before,
      alertsBefore,
      { timeout: 10_000 },
    );
    const { kpis, impact } = await seen(a.page);
    const alerts = kpis.open_alerts!.map(Number);
    expect(Math.max(...alerts)).toBeGreaterThan(Number(alertsBefore));
    expect(alerts.at(-1)).toBe(Number(alertsBefore));
    const sessions = kpis.issue_sessions_active!.map(money);
    expect(Math.max(...sessions)).toBeGreaterThan(sessions[0]!);
    console.log(`open alerts on the strip: ${kpis.open_alerts!.join(' → ')}; active issue sessions: ${kpis.issue_sessions_active!.join(' → ')}`);

    // The impact meter counted up to the new total, passing through values in between.
    await a.page.waitForFunction((before) => Number(document.querySelector('[data-testid="impact-value"]')?.getAttribute('data-value')) > before, impactBefore);
    const impactAfter = Number(await a.page.locator('[data-testid="impact-value"]').getAttribute('data-value'));
    await a.page.waitForFunction(
      (after) => Number(document.querySelector('[data-testid="impact-value"] [aria-hidden="true"]')?.textContent?.replace(/[^0-9.]/g, '')) === Math.round(after),
      impactAfter,
    );
    const counted = (await seen(a.page)).impact.map(money);
    expect(counted.filter((v) => v > impactBefore && v < Math.round(impactAfter)).length).toBeGreaterThan(2);
    expect(counted).toEqual([...counted].sort((x, y) => x - y));
    console.log(`impact meter: ${impact.length} renders from ${impactBefore} to ${impactAfter}`);
    await a.page.locator('[data-testid="incident-center"]').screenshot({ path: path.join(SHOTS, 'incident-dashboard-resolved.png') });
    await b.page.locator('[data-testid="incident-center"]').screenshot({ path: path.join(SHOTS, 'incident-dashboard-dark.png') });

    // The timeline, from the incident's link.
    await Promise.all([a.page.waitForURL(`**/incidents/${id}`), a.page.click(`li.incident-card[data-incident="${id}"] a.incident-title`)]);
    await a.page.waitForSelector('astro-island:not([ssr]) [data-testid="timeline"]');
    await expect(a.page.locator('.incident-page').getAttribute('data-status')).resolves.toBe('resolved');
    for (const agent of AGENTS) expect(await a.page.locator(`[data-testid="timeline"] li[data-agent="${agent}"][data-status="completed"]`).count()).toBeGreaterThan(0);
    expect(await a.page.locator('[data-testid="timeline"] li[data-kind="remediation"][data-status="completed"]').count()).toBe(5);
    await expect(a.page.locator('[data-testid="cost"] .formula').textContent()).resolves.toMatch(/\S/);
    expect(money((await a.page.locator('[data-testid="savings"]').textContent()) ?? '')).toBeGreaterThan(0);
    await expect(a.page.locator('[data-testid="notification"]').getAttribute('data-state')).resolves.toMatch(/^(delivered|not_configured)$/);
    expect(await a.page.locator('[data-testid="linked-kpis"] tr[data-metric="open_alerts"]').count()).toBe(1);
    expect(await a.page.locator('button', { hasText: 'Cancel incident' }).count()).toBe(0);
    await a.page.screenshot({ path: path.join(SHOTS, 'incident-timeline.png'), fullPage: true });

    expect(a.errors.concat(b.errors), a.errors.concat(b.errors).join('\n')).toEqual([]);
    await a.context.close();
    await b.context.close();
  });
});

describe('the incident page', () => {
  async function startVia(s: Session, body: object): Promise<string> {
    const res = await s.page.request.post(`${server.url}/v1/incidents`, { data: body });
    expect(res.status()).toBe(202);
    return ((await res.json()) as { incident_id: string }).incident_id;
  }

  it('shows a rollback as such, and a failed compensation apart from the forward failure', async () => {
    const s = await session();
    await signIn(s, 'editor');
    const id = await startVia(s, { scenario: 'api_slowdown', options: { fail_step: 3, fail_rollback: true } });
    await openIncident(s.page, id);
    await s.page.waitForSelector('.incident-page[data-status="failed"]', { timeout: 30_000 });
    const timeline = s.page.locator('[data-testid="timeline"]');
    await expect(timeline.locator('li[data-kind="remediation"][data-status="failed"] .status-badge').textContent()).resolves.toBe('Failed');
    expect(await timeline.locator('li[data-kind="rollback"][data-status="failed"]').count()).toBeGreaterThan(0);
    await expect(timeline.locator('li[data-kind="rollback"][data-status="failed"] .entry-kind').first().textContent()).resolves.toBe('Compensation failed');
    expect(await timeline.locator('li[data-kind="remediation"][data-status="rollback_failed"]').count()).toBeGreaterThan(0);
    await expect(s.page.locator('[data-testid="incident-summary"]').textContent()).resolves.toMatch(/Step 3 failed.*Could not roll back/);
    await expect(s.page.locator('[data-testid="savings"]').textContent()).resolves.toContain('not resolved');
    await s.page.screenshot({ path: path.join(SHOTS, 'incident-rollback-failed.png'), fullPage: true });

    const rolledBack = await startVia(s, { scenario: 'api_slowdown', options: { fail_step: 4 } });
    await openIncident(s.page, rolledBack);
    await s.page.waitForSelector('.incident-page[data-status="failed"]', { timeout: 30_000 });
    expect(await timeline.locator('li[data-kind="remediation"][data-status="rolled_back"]').count()).toBe(3);
    expect(await timeline.locator('li[data-kind="rollback"][data-status="completed"]').count()).toBe(3);
    await expect(timeline.locator('li[data-kind="rollback"][data-status="completed"] .status-badge').first().textContent()).resolves.toBe('Rolled back');
    await expect(s.page.locator('[data-testid="incident-summary"]').textContent()).resolves.toMatch(/Rolled back: steps 1, 2, 3/);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('asks an editor to approve a gated remediation, shows a viewer the wait without the buttons, and refuses a second decision', async () => {
    const editor = await session();
    const viewer = await session();
    await signIn(editor, 'editor');
    await signIn(viewer, 'viewer');
    const id = await startVia(editor, { scenario: 'service_down' });
    await openIncident(editor.page, id);
    await openIncident(viewer.page, id);
    await editor.page.waitForSelector('[data-testid="approval"]', { timeout: 30_000 });
    await viewer.page.waitForSelector('.incident-page[data-status="waiting_approval"]', { timeout: 30_000 });
    expect(await viewer.page.locator('[data-testid="approval"], button').filter({ hasText: /Approve|Reject|Cancel incident/ }).count()).toBe(0);
    await editor.page.screenshot({ path: path.join(SHOTS, 'incident-approval.png'), fullPage: true });
    await editor.page.click('[data-testid="approval"] button.approve');
    for (const s of [editor, viewer]) await s.page.waitForSelector('.incident-page[data-status="resolved"]', { timeout: 30_000 });
    await expect(editor.page.locator('[data-testid="timeline"] li[data-kind="approval"] .status-badge').textContent()).resolves.toBe('Approved');
    const again = await editor.page.request.post(`${server.url}/v1/incidents/${id}/approve`, { data: {} });
    expect(again.status()).toBe(409);
    expect(editor.errors.concat(viewer.errors)).toEqual([]);
    await editor.context.close();
    await viewer.context.close();
  });

  it('shows an incident already running on a dashboard opened later, and cancels it', async () => {
    const s = await session();
    await signIn(s, 'editor');
    const id = await startVia(s, { scenario: 'memory_leak' });
    await openIncident(s.page, id);
    await s.page.waitForSelector('.incident-page[data-status="waiting_approval"]', { timeout: 30_000 });
    // A dashboard that opens now reads the running incident's timeline: its agents are where they are.
    await s.page.goto(`${server.url}/`);
    await showIncidents(s.page);
    const card = s.page.locator(`li.incident-card[data-incident="${id}"]`);
    await card.locator('[data-agent="prediction"][data-tone="done"]').waitFor();
    await expect(card.locator('[data-agent="resolution"]').getAttribute('data-tone')).resolves.toBe('waiting');
    await expect(card.locator('[data-agent="communication"] .status-badge').textContent()).resolves.toBe('Standing by');
    expect(await s.page.locator(`[data-testid="incident-feed"] li[data-incident="${id}"][data-agent="detection"]`).count()).toBe(1);
    await openIncident(s.page, id);
    await s.page.click('button:has-text("Cancel incident")');
    await s.page.click('button:has-text("Yes, cancel it")');
    await s.page.waitForSelector('.incident-page[data-status="cancelled"]', { timeout: 30_000 });
    expect(await s.page.locator('button:has-text("Cancel incident")').count()).toBe(0);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('lists incidents with filters, and answers an unknown id with a page that says so', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/incidents');
    expect(await s.page.locator('[data-testid="incident-list"] tbody tr').count()).toBeGreaterThanOrEqual(4);
    await s.page.selectOption('select[name="status"]', 'failed');
    await Promise.all([s.page.waitForURL(/status=failed/), s.page.click('.filter-actions button[type="submit"]')]);
    const statuses = await s.page.locator('[data-testid="incident-list"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(new Set(statuses)).toEqual(new Set(['failed']));
    await s.page.screenshot({ path: path.join(SHOTS, 'incidents-list.png'), fullPage: true });
    const missing = await s.page.goto(`${server.url}/incidents/00000000-0000-4000-8000-000000000000`);
    expect(missing?.status()).toBe(404);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('passes the accessibility check in light and dark mode', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const s = await session(scheme, { bypassCSP: true });
      await signIn(s, 'editor', '/incidents');
      const href = await s.page.locator('[data-testid="incident-list"] tbody tr[data-status="failed"] a').first().getAttribute('href');
      expect(await axe(s.page), `${scheme} list`).toEqual([]);
      await s.page.goto(`${server.url}${href}`);
      await s.page.waitForSelector('[data-testid="timeline"]');
      await s.page.locator('details.entry-details summary').first().click();
      expect(await axe(s.page), `${scheme} incident page`).toEqual([]);
      if (scheme === 'dark') await s.page.screenshot({ path: path.join(SHOTS, 'incident-timeline-dark.png'), fullPage: true });
      await s.page.goto(`${server.url}/`);
      await showIncidents(s.page);
      await s.page.waitForSelector('[data-testid="incident-feed"]');
      expect(await axe(s.page), `${scheme} dashboard`).toEqual([]);
      await s.context.close();
    }
  });
});
