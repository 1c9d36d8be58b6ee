import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { DevServer } from '../../scripts/dev-server.ts';
import { SHOTS, axe, openSession, signInTo, useBrowserApp, user } from './harness.ts';
import type { BrowserApp, Session } from './harness.ts';

let app: BrowserApp;
let server: DevServer;
useBrowserApp((started) => {
  app = started;
  server = started.server;
});

/**
 * A fresh context in a fixed locale and a zone away from UTC, so "the viewer's time" is
 * checkable: New York's clock is never UTC's.
 */
const session = (scheme: 'light' | 'dark' = 'light', options: { bypassCSP?: boolean } = {}) =>
  openSession(app.browser, {
    colorScheme: scheme,
    viewport: { width: 1440, height: 1000 },
    locale: 'en-US',
    timezoneId: 'America/New_York',
    acceptDownloads: true,
    bypassCSP: options.bypassCSP ?? false,
  });
const signIn = (s: Session, role: 'admin' | 'editor' | 'viewer', target: string) => signInTo(server, s, role, target);

const control = async (action: string, body?: unknown) => {
  const res = await fetch(`${server.stack.vars.STACK_CONTROL_URL}${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.stack.vars.STACK_CONTROL_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status, `stack control ${action}`).toBe(204);
};

const CALLS = '[data-testid="calls-table"]';
const column = (page: Page, n: number) => page.$$eval(`${CALLS} tbody tr td:nth-child(${n})`, (tds) => tds.map((td) => td.textContent ?? ''));
const ids = (page: Page) => column(page, 2);
const rangeText = (page: Page) => page.locator('[data-testid="calls-range"]').textContent();
/** Settled: no section is loading or being replaced. */
/** The island has hydrated (Astro drops `ssr` then), so clicks reach it, and nothing is loading. */
const settled = (page: Page) =>
  page.waitForFunction(
    () => document.querySelector('astro-island:not([ssr]) .analytics') !== null && document.querySelectorAll('.analytics [aria-busy="true"]').length === 0,
    null,
    { timeout: 30_000 },
  );

/**
 * A window inside the lakehouse's synthetic months (the last 120 days), ending on a random
 * second, so no other request has asked about it and nothing answers from the cache.
 */
function unusedWindow(days: number): { start: string; end: string } {
  const end = Date.now() - 86_400_000 - Math.floor(Math.random() * 80 * 86_400) * 1000;
  return { start: new Date(end - days * 86_400_000).toISOString(), end: new Date(end).toISOString() };
}

describe('calls page', () => {
  it('filters from the controls into the URL, and Back and Forward step through the filters', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/calls');
    await settled(s.page);
    expect(await s.page.locator('nav[aria-label="Primary"] a[href="/calls"]').getAttribute('aria-current')).toBe('page');
    const allTotal = await rangeText(s.page);
    expect(allTotal).toMatch(/1–25 of [\d,]+/);

    await s.page.click('details[data-filter="channel"] summary');
    await s.page.check('details[data-filter="channel"] input[value="chat"]');
    await s.page.waitForURL(/[?&]channel=chat/);
    await s.page.waitForFunction((sel) => {
      const cells = [...document.querySelectorAll(`${sel} tbody tr td:nth-child(3)`)];
      return cells.length > 0 && cells.every((td) => td.textContent === 'chat');
    }, CALLS);
    await settled(s.page);
    const chatTotal = await rangeText(s.page);
    expect(chatTotal).not.toBe(allTotal);
    // The list's total and the summary's contacts are one number under the same filters.
    const total = chatTotal!.match(/of ([\d,]+)/)![1];
    // The cards and the list load separately; wait for the cards to answer the same filters.
    await s.page
      .waitForFunction((want) => document.querySelector('[data-measure="contacts"] [data-testid="kpi-value"]')?.textContent === want, total, { timeout: 10_000 })
      .catch(() => undefined);
    await expect(s.page.locator('[data-measure="contacts"] [data-testid="kpi-value"]').textContent()).resolves.toBe(total);
    // The change names the window it compares with, and gives points for a rate.
    await expect(s.page.locator('[data-testid="compared-with"]').textContent()).resolves.toMatch(/the 30 days before/);
    await expect(s.page.locator('[data-measure="first_contact_resolution"] [data-testid="kpi-change"]').textContent()).resolves.toMatch(/pts/);

    await s.page.selectOption('select[name="fcr"]', 'false');
    await s.page.waitForURL(/fcr=false/);
    await s.page.waitForFunction((sel) => {
      const cells = [...document.querySelectorAll(`${sel} tbody tr td:nth-child(8)`)];
      return cells.length > 0 && cells.every((td) => td.textContent === 'No');
    }, CALLS);
    await s.page.screenshot({ path: path.join(SHOTS, 'calls-filtered-light.png'), fullPage: true });

    // A shared link renders the same view on the server.
    const shared = s.page.url();
    await s.page.goBack();
    await s.page.waitForURL((u) => u.searchParams.get('channel') === 'chat' && !u.searchParams.has('fcr'));
    await s.page.waitForFunction((sel) => [...document.querySelectorAll(`${sel} tbody tr td:nth-child(8)`)].some((td) => td.textContent === 'Yes'), CALLS);
    await expect(s.page.locator('select[name="fcr"]').inputValue()).resolves.toBe('');
    await s.page.goBack();
    await s.page.waitForURL((u) => !u.search);
    await expect.poll(() => rangeText(s.page), { timeout: 15_000 }).toBe(allTotal);
    await s.page.goForward();
    await s.page.waitForURL(/channel=chat/);
    await expect.poll(() => rangeText(s.page), { timeout: 15_000 }).toBe(chatTotal);

    const fresh = await session();
    await signIn(fresh, 'viewer', new URL(shared).pathname + new URL(shared).search);
    await settled(fresh.page);
    expect((await column(fresh.page, 3)).every((c) => c === 'chat')).toBe(true);
    expect(await fresh.page.locator('details[data-filter="channel"] input[value="chat"]').isChecked()).toBe(true);
    expect(s.errors.concat(fresh.errors)).toEqual([]);
    await fresh.context.close();
    await s.context.close();
  });

  it('pages forward and back by cursor, and opens a contact from the keyboard', async () => {
    const s = await session();
    const listed: string[] = [];
    s.page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/v1/calls') listed.push(decodeURIComponent(new URL(r.url()).search));
    });
    await signIn(s, 'viewer', '/calls?channel=call');
    await settled(s.page);
    const first = await ids(s.page);
    expect(first).toHaveLength(25);
    await s.page.click('[data-testid="page-next"]');
    await expect.poll(() => rangeText(s.page), { timeout: 15_000 }).toMatch(/26–50 of/);
    const second = await ids(s.page);
    expect(second).toHaveLength(25);
    expect(second.some((id) => first.includes(id))).toBe(false);
    await s.page.click('[data-testid="page-next"]');
    await expect.poll(() => rangeText(s.page), { timeout: 15_000 }).toMatch(/51–75 of/);
    await s.page.click('[data-testid="page-prev"]');
    await expect.poll(() => rangeText(s.page), { timeout: 15_000 }).toMatch(/26–50 of/);
    expect(await ids(s.page)).toEqual(second);
    await s.page.click('[data-testid="page-prev"]');
    await expect.poll(() => rangeText(s.page), { timeout: 15_000 }).toMatch(/1–25 of/);
    expect(await ids(s.page)).toEqual(first);
    expect(await s.page.locator('[data-testid="page-prev"]').isDisabled()).toBe(true);
    // Back is the API's links.prev (a page[before] cursor), not a replay of the cursors followed.
    expect(listed.filter((q) => q.includes('page[before]'))).toHaveLength(2);

    // Rows are one tab stop: focus the first, move down with the arrow, open with Enter.
    await s.page.locator(`${CALLS} tbody tr`).first().focus();
    await s.page.keyboard.press('ArrowDown');
    const focused = await s.page.evaluate(() => document.activeElement?.getAttribute('data-key'));
    expect(focused).toBe(first[1]);
    await s.page.keyboard.press('Enter');
    const drawer = s.page.locator('[data-testid="call-drawer"]');
    await s.page.waitForSelector('[data-testid="call-drawer"][open][data-state="ready"]', { timeout: 15_000 });
    await s.page.waitForURL(new RegExp(`call=${first[1]}`));
    await expect(drawer.locator('#call-title').textContent()).resolves.toContain(first[1]);
    const agent = (await column(s.page, 5))[1]!.split(' · ')[0]!;
    await expect(drawer.locator('section[aria-labelledby="agent-title"]').textContent()).resolves.toContain(agent);
    await expect(drawer.locator('section[aria-labelledby="customer-title"] dd').first().textContent()).resolves.toMatch(/^CUS-/);
    expect(await drawer.locator('section[aria-labelledby="claims-title"] table, section[aria-labelledby="claims-title"] .empty').count()).toBe(1);
    expect(await drawer.locator('section[aria-labelledby="sessions-title"] table, section[aria-labelledby="sessions-title"] .empty').count()).toBe(1);
    await s.page.screenshot({ path: path.join(SHOTS, 'calls-detail-light.png') });
    await s.page.keyboard.press('Escape');
    await s.page.waitForURL((u) => !u.searchParams.has('call'));
    expect(await drawer.getAttribute('open')).toBeNull();
    // Focus returns to the row it came from.
    expect(await s.page.evaluate(() => document.activeElement?.getAttribute('data-key'))).toBe(first[1]);

    // A link to a contact opens it on arrival.
    await s.page.goto(`${server.url}/calls?channel=call&call=${first[0]}`);
    await s.page.waitForSelector('[data-testid="call-drawer"][open][data-state="ready"]', { timeout: 15_000 });
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('takes a date range from the keyboard into the URL, names the compared days, and the agents page shares it', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/calls?channel=email');
    await settled(s.page);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const from = day(today - 20 * 86_400_000);
    const to = day(today - 14 * 86_400_000);
    // en-US date inputs take month, day and year as typed digits, moving across on their own.
    const typeDay = async (testId: string, iso: string) => {
      const [y, m, d] = iso.split('-');
      await s.page.locator(`[data-testid="${testId}"]`).focus();
      await s.page.keyboard.type(`${m}${d}${y}`);
    };
    await typeDay('date-from', from);
    await typeDay('date-to', to);
    await s.page.keyboard.press('Tab');
    const start = `${from}T00:00:00.000Z`;
    const end = `${day(Date.parse(`${to}T00:00:00Z`) + 86_400_000)}T00:00:00.000Z`;
    await s.page.waitForURL((u) => u.searchParams.get('start') === start && u.searchParams.get('end') === end && u.searchParams.get('channel') === 'email', { timeout: 15_000 });
    expect(new URL(s.page.url()).searchParams.has('period')).toBe(false);
    await settled(s.page);
    await expect(s.page.locator('select[name="period"]').inputValue()).resolves.toBe('custom');
    await expect(s.page.locator('[data-testid="date-from"]').inputValue()).resolves.toBe(from);
    await expect(s.page.locator('[data-testid="date-to"]').inputValue()).resolves.toBe(to);
    await expect.poll(() => s.page.locator('[data-testid="compared-with"]').textContent(), { timeout: 15_000 }).toMatch(/the 7 days before/);
    // The compared week is named by its own days: the seven before the first chosen one.
    const utcDay = (ms: number) => new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(ms);
    const first = Date.parse(start);
    await expect(s.page.locator('[data-testid="compared-with"]').textContent()).resolves.toContain(`${utcDay(first - 7 * 86_400_000)} – ${utcDay(first - 86_400_000)}`);
    // Every row is inside the chosen days.
    const api = await s.page.evaluate(async (q) => (await fetch(`/v1/calls?${q}`)).json(), new URL(s.page.url()).search.slice(1));
    const rows = (api as { data: Array<{ started_at: string }> }).data;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.started_at >= start && r.started_at < end, r.started_at).toBe(true);
    await s.page.screenshot({ path: path.join(SHOTS, 'calls-date-range-light.png'), fullPage: false });

    // A period again drops the range.
    await s.page.selectOption('select[name="period"]', '7d');
    await s.page.waitForURL((u) => u.searchParams.get('period') === '7d' && !u.searchParams.has('start'));
    // The URL is written as the change is made; the inputs clear on the render that follows.
    await expect.poll(() => s.page.locator('[data-testid="date-from"]').inputValue(), { timeout: 5_000 }).toBe('');

    // The agents page reads the same range from its URL.
    await s.page.goto(`${server.url}/agents?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`);
    await s.page.waitForFunction(() => document.querySelectorAll('.analytics [aria-busy="true"]').length === 0, null, { timeout: 30_000 });
    await expect(s.page.locator('[data-testid="date-from"]').inputValue()).resolves.toBe(from);
    await expect(s.page.locator('[data-testid="date-to"]').inputValue()).resolves.toBe(to);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('sorts on a column, and exports exactly the filtered list as CSV', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/calls?channel=email&region=EMEA&period=7d');
    await settled(s.page);
    await s.page.click(`${CALLS} th button[data-sort-key="handle_seconds"]`);
    await s.page.waitForURL(/sort=-handle_seconds/);
    await expect.poll(() => s.page.locator(`${CALLS} th[aria-sort="descending"]`).textContent(), { timeout: 15_000 }).toContain('Handle time');
    await settled(s.page);
    const seconds = await s.page.$$eval(`${CALLS} tbody td:nth-child(7) span[title]`, (spans) => spans.map((sp) => Number(sp.getAttribute('title')!.replace(/\D/g, ''))));
    expect(seconds.length).toBeGreaterThan(0);
    expect([...seconds].sort((a, b) => b - a)).toEqual(seconds);

    const total = Number((await rangeText(s.page))!.match(/of ([\d,]+)/)![1]!.replace(/,/g, ''));
    const [download] = await Promise.all([s.page.waitForEvent('download'), s.page.click('[data-testid="export-csv"]')]);
    expect(download.suggestedFilename()).toMatch(/^contacts-.*\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    const comments = lines.filter((l) => l.startsWith('#'));
    expect(comments.join('\n')).toContain('channel=email');
    expect(comments.join('\n')).toContain('region=EMEA');
    expect(comments.join('\n')).toContain('sort: -handle_seconds');
    expect(comments.join('\n')).toContain(`rows: ${total} of ${total}`);
    const [header, ...rows] = lines.filter((l) => !l.startsWith('#'));
    const cols = header!.split(',');
    expect(rows).toHaveLength(total);
    const at = (row: string, name: string) => row.split(',')[cols.indexOf(name)];
    expect(rows.every((r) => at(r, 'channel') === 'email' && at(r, 'customer_region') === 'EMEA')).toBe(true);
    const exported = rows.map((r) => Number(at(r, 'handle_seconds')));
    expect(exported.slice(0, seconds.length)).toEqual(seconds);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('shows times in the viewer’s zone with the exact UTC on hover, and formatted numbers', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/calls');
    await settled(s.page);
    const cell = s.page.locator(`${CALLS} tbody tr`).first().locator('td').first().locator('time');
    const [title, iso] = await Promise.all([cell.getAttribute('title'), cell.getAttribute('datetime')]);
    expect(title).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    expect(title!.replace(' ', 'T').replace(' UTC', '.000Z')).toBe(iso);
    // The server writes UTC; once the island is up the viewer reads New York time.
    const expected = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'America/New_York' }).format(new Date(iso!));
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe(expected);
    // One line per row: no cell wraps.
    const heights = await s.page.$$eval(`${CALLS} tbody tr`, (trs) => trs.slice(0, 10).map((tr) => tr.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThan(40);
    await expect(s.page.locator(`${CALLS} th`, { hasText: 'Started' }).getAttribute('title')).resolves.toBe('When the contact started (UTC)');
    await s.context.close();
  });
});

describe('agents page', () => {
  it('sorts the leaderboard on each measure, badges the best, and ranks teams', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/agents');
    await settled(s.page);
    expect(await s.page.locator('nav[aria-label="Primary"] a[href="/agents"]').getAttribute('aria-current')).toBe('page');
    const board = s.page.locator('[data-testid="leaderboard-table"]');
    const csatIndex = await board.locator('th').evaluateAll((ths) => ths.findIndex((th) => th.textContent?.includes('CSAT')) + 1);
    const csat = () =>
      s.page.$$eval(`[data-testid="leaderboard-table"] tbody tr:not(.ineligible) td:nth-child(${csatIndex}) .lb-value > span:not(.pill):not(.lb-rank)`, (spans) =>
        spans.map((sp) => Number(sp.textContent)),
      );

    await board.locator('th button[data-sort-key="csat_avg"]').click();
    await s.page.waitForURL(/sort=-csat_avg/);
    await expect.poll(() => board.locator('th[aria-sort="descending"] button').getAttribute('data-sort-key'), { timeout: 15_000 }).toBe('csat_avg');
    await settled(s.page);
    const down = await csat();
    expect(down.length).toBeGreaterThan(10);
    expect([...down].sort((a, b) => b - a)).toEqual(down);
    // The best CSAT carries the top badge and rank 1.
    const top = board.locator('tbody tr').first().locator(`td:nth-child(${csatIndex})`);
    await expect(top.locator('.pill').getAttribute('data-badge')).resolves.toBe('top_10_percent');
    await expect(top.locator('.lb-rank').textContent()).resolves.toBe('#1');
    await s.page.screenshot({ path: path.join(SHOTS, 'agents-light.png'), fullPage: true });

    await board.locator('th button[data-sort-key="csat_avg"]').click();
    await s.page.waitForURL(/sort=csat_avg/);
    await expect.poll(() => board.locator('th[aria-sort="ascending"] button').getAttribute('data-sort-key'), { timeout: 15_000 }).toBe('csat_avg');
    await settled(s.page);
    const up = await csat();
    expect([...up].sort((a, b) => a - b)).toEqual(up);

    // Handle time is better when shorter: its first sort puts the fastest first.
    await board.locator('th button[data-sort-key="avg_handle_time"]').click();
    await s.page.waitForURL(/sort=avg_handle_time/);
    await s.page.goBack();
    await s.page.waitForURL(/sort=csat_avg/);

    await s.page.click('.segmented a[data-group="team"]');
    await s.page.waitForURL(/group=team/);
    await expect.poll(() => board.locator('tbody tr').count(), { timeout: 15_000 }).toBe(4);
    // A leaderboard row leads to that team's contacts.
    const href = await board.locator('tbody tr').first().locator('a').getAttribute('href');
    expect(href).toMatch(/^\/calls\?.*team=/);
    expect(s.errors).toEqual([]);
    await s.context.close();
  });
});

describe('the lakehouse', () => {
  it('paints both pages at once while it is slow, then fills them in', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/calls');
    const { start, end } = unusedWindow(5);
    await control('/databricks/faults', { latencyMs: 3_000 });
    try {
      const started = Date.now();
      await s.page.goto(`${server.url}/calls?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`, { waitUntil: 'domcontentloaded' });
      const html = Date.now() - started;
      console.log(`calls page HTML with a slow lakehouse: ${html} ms`);
      expect(html).toBeLessThan(3_000);
      expect(await s.page.locator('[data-testid="calls"] [role="progressbar"]').count()).toBe(1);
      expect(await s.page.locator('[data-testid="summary"]').getAttribute('aria-busy')).toBe('true');
      await s.page.waitForSelector('[data-testid="calls"][data-state="ready"]', { timeout: 30_000 });
      await settled(s.page);
      expect(await s.page.locator('[data-testid="trend"] svg[role="img"]').count()).toBe(1);
    } finally {
      await control('/databricks/clear');
    }
    await s.context.close();
  });

  it('turns the pages amber with the reason when it is stopped, breaks nothing else, and recovers without a reload', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/calls');
    const { start, end } = unusedWindow(3);
    const query = `?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}&team=claims`;
    await control('/databricks/stop');
    try {
      await s.page.goto(`${server.url}/calls${query}`);
      await s.page.waitForSelector('[data-testid="calls"][data-state="failed"]', { timeout: 30_000 });
      await s.page.waitForSelector('[data-testid="summary"][data-state="unavailable"]', { timeout: 30_000 });
      await s.page.waitForSelector('[data-testid="trend"][data-state="unavailable"]', { timeout: 30_000 });
      for (const section of ['calls', 'summary', 'trend']) {
        const box = s.page.locator(`[data-testid="${section}"]`);
        await expect(box.locator('[data-testid="unavailable"] > p').textContent()).resolves.toContain('Databricks is not answering');
        await expect(box.locator('[data-testid="source-badge"]').first().getAttribute('data-degraded')).resolves.toBe('true');
        await expect(box.locator('[data-testid="source-badge"]').first().textContent()).resolves.toBe('Live data unavailable');
        await box.locator('[data-testid="unavailable"] summary').click();
        await expect(box.locator('[data-testid="unavailable"] details p').textContent()).resolves.toMatch(/Databricks/);
      }
      // The controls still work from the dictionary's values, and the rest of the app is untouched.
      await s.page.click('details[data-filter="region"] summary');
      expect(await s.page.locator('details[data-filter="region"] input[type="checkbox"]').count()).toBe(5);
      await s.page.screenshot({ path: path.join(SHOTS, 'calls-degraded-light.png'), fullPage: true });
      await s.page.goto(`${server.url}/agents${query}`);
      await s.page.waitForSelector('[data-testid="leaderboard"][data-state="unavailable"]', { timeout: 30_000 });
      await expect(s.page.locator('[data-testid="leaderboard"] [data-testid="unavailable"] > p').textContent()).resolves.toContain('Databricks is not answering');
      await s.page.screenshot({ path: path.join(SHOTS, 'agents-degraded-light.png'), fullPage: true });
      expect((await s.page.goto(`${server.url}/`))?.status()).toBe(200);
      await s.page.goto(`${server.url}/calls${query}`);
      await s.page.waitForSelector('[data-testid="calls"][data-state="failed"]', { timeout: 30_000 });
      await control('/databricks/start');
      // No reload: while the lakehouse is away the page asks again every 10 s.
      const back = Date.now();
      await s.page.waitForSelector('[data-testid="calls"][data-state="ready"]', { timeout: 20_000 });
      await s.page.waitForSelector('[data-testid="summary"][data-state="ready"]', { timeout: 20_000 });
      console.log(`calls page recovered ${Date.now() - back} ms after the lakehouse came back, without a reload`);
      expect(s.errors).toEqual([]);
    } finally {
      await control('/databricks/start');
      await s.context.close();
    }
  });
});

describe('the rows behind a tile', () => {
  it('reads with the dictionary’s labels, the viewer’s times with UTC on hover, and money as money', async () => {
    const token = ((await (await fetch(`${server.url}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.21' },
      body: JSON.stringify({ email: user('editor').email, password: user('editor').password }),
    })).json()) as { token: string }).token;
    const title = `Claims table ${Date.now().toString(36)}`;
    const res = await fetch(`${server.url}/v1/widgets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title, metric: 'claims_by_product', visualization: 'table', time_window: { preset: '7d' } }),
    });
    expect(res.status).toBe(201);
    const s = await session();
    await signIn(s, 'editor', '/');
    await s.page.waitForLoadState('networkidle');
    const tile = s.page.locator('[data-testid="tiles"] > li', { has: s.page.locator(`h3:text-is("${title}")`) });
    await tile.locator('button', { hasText: 'Rows' }).click({ timeout: 30_000 });
    const dialog = s.page.locator('[data-testid="records-dialog"]');
    await s.page.waitForSelector('[data-testid="records-dialog"]:is([data-state="ready"], [data-state="failed"])', { timeout: 30_000 });
    expect(await dialog.getAttribute('data-state'), (await dialog.textContent()) ?? '').toBe('ready');
    const headers = await dialog.locator('th').allTextContents();
    expect(headers).toContain('Claim identifier');
    expect(headers).toContain('When the claim was filed');
    expect(headers).toContain('Cost avoided');
    expect(headers.some((h) => /_/.test(h))).toBe(false);
    await expect(dialog.locator('th', { hasText: 'Cost avoided' }).getAttribute('title')).resolves.toContain('Cost avoided in USD');
    const time = dialog.locator('tbody tr').first().locator('time').first();
    await expect(time.getAttribute('title')).resolves.toMatch(/ UTC$/);
    await expect(time.textContent()).resolves.toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M$/);
    const index = headers.indexOf('Cost avoided') + 1;
    await expect(dialog.locator(`tbody tr td:nth-child(${index})`).first().textContent()).resolves.toMatch(/^\$[\d,]+(\.\d{2})?$/);
    const heights = await dialog.locator('tbody tr').evaluateAll((trs) => trs.slice(0, 10).map((tr) => tr.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThan(40);
    await dialog.screenshot({ path: path.join(SHOTS, 'records-dictionary-light.png') });
    expect(s.errors).toEqual([]);
    await s.context.close();
  });
});

describe('accessibility and weight', () => {
  it('passes an automated accessibility check in light and dark mode, drawer open too', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const s = await session(scheme, { bypassCSP: true });
      await signIn(s, 'admin', '/calls');
      await settled(s.page);
      expect(await axe(s.page), `calls, ${scheme}`).toEqual([]);
      await s.page.screenshot({ path: path.join(SHOTS, `calls-${scheme}.png`), fullPage: true });
      await s.page.locator(`${CALLS} tbody tr`).first().click();
      await s.page.waitForSelector('[data-testid="call-drawer"][open][data-state="ready"]', { timeout: 15_000 });
      expect(await axe(s.page), `calls drawer, ${scheme}`).toEqual([]);
      if (scheme === 'dark') await s.page.screenshot({ path: path.join(SHOTS, 'calls-detail-dark.png') });
      await s.page.goto(`${server.url}/agents`);
      await settled(s.page);
      expect(await axe(s.page), `agents, ${scheme}`).toEqual([]);
      await s.page.screenshot({ path: path.join(SHOTS, `agents-${scheme}.png`), fullPage: true });
      await s.context.close();
    }
  });

  it('keeps each page’s JavaScript small', async () => {
    const s = await session();
    await signIn(s, 'viewer', '/calls');
    // Script bodies are read as they arrive: let the sign-in's page finish before counting.
    await s.page.waitForLoadState('networkidle');
    for (const page of ['/calls', '/agents']) {
      s.resetScripts();
      await s.page.goto(`${server.url}${page}`, { waitUntil: 'networkidle' });
      console.log(`${page} JavaScript: ${(s.scriptBytes() / 1024).toFixed(1)} KiB, ${(s.scriptGzipBytes() / 1024).toFixed(1)} KiB gzipped (${s.scriptNames().join(', ')})`);
      expect(s.scriptBytes()).toBeGreaterThan(0);
      // Preact, the typed client, the records table and the page (the production build, as users get it).
      expect(s.scriptBytes()).toBeLessThan(66 * 1024);
      expect(s.scriptGzipBytes()).toBeLessThan(26 * 1024);
    }
    expect(s.errors).toEqual([]);
    await s.context.close();
  });
});
