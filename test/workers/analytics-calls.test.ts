import { describe, expect, it } from 'vitest';
import { call, expectProblem } from './helpers.ts';
import { freshWindow, query, viewerFetch, viewerGet } from './analytics-helpers.ts';
import type { CallsPage } from './analytics-helpers.ts';

const list = (params: Record<string, string | number | boolean | string[] | undefined>) => viewerGet<CallsPage>(`/v1/calls?${query(params)}`);

describe('GET /v1/calls', () => {
  it('pages through the window by cursor: no row twice, in sort order, as many rows as the total says', async () => {
    // A narrow slice keeps the walk short: one channel, one issue type, one week.
    const w = freshWindow(7);
    const filters = { ...w, channel: 'email', issue_type: 'billing' };
    const seen: string[] = [];
    let page = await list({ ...filters, 'page[size]': 20 });
    expect(page.meta).toMatchObject({ page_size: 20, sort: '-started_at', window: w, filters: { channel: 'email', issue_type: 'billing' } });
    const total = page.meta.total;
    expect(total).toBeGreaterThan(20);
    for (let guard = 0; guard < 50; guard++) {
      seen.push(...page.data.map((r) => r.interaction_id));
      for (const r of page.data) expect(r).toMatchObject({ channel: 'email', issue_type: 'billing' });
      if (!page.meta.has_more) break;
      expect(page.links.next).toMatch(/^\/v1\/calls\?.*page%5Bafter%5D=/);
      page = await viewerGet<CallsPage>(page.links.next!);
    }
    expect(page.links.next).toBeNull();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(total);
  });

  it('pages back by links.prev: the same pages in the same order, and none before the first', async () => {
    const w = freshWindow(7);
    for (const sort of ['-started_at', 'handle_seconds', '-csat'] as const) {
      const filters = { ...w, channel: 'chat', sort, 'page[size]': 7 };
      const first = await list(filters);
      expect(first.links.prev).toBeNull();
      const forwards = [first];
      for (let i = 0; i < 3; i++) forwards.push(await viewerGet<CallsPage>(forwards.at(-1)!.links.next!));
      // Back from the fourth page to the first, each page exactly as it was going forwards.
      let page = forwards[3]!;
      for (let i = 2; i >= 0; i--) {
        expect(page.links.prev, `${sort} page ${i + 2}`).toMatch(/^\/v1\/calls\?.*page%5Bbefore%5D=/);
        expect(page.links.prev).not.toContain('page%5Bafter%5D');
        page = await viewerGet<CallsPage>(page.links.prev!);
        expect(page.data.map((r) => r.interaction_id), `${sort} page ${i + 1}`).toEqual(forwards[i]!.data.map((r) => r.interaction_id));
        expect(page.meta.window).toEqual(first.meta.window);
        expect(page.meta.total).toBe(first.meta.total);
      }
      expect(page.links.prev, `${sort}: nothing before the first page`).toBeNull();
      // And forwards again from a page reached backwards.
      expect((await viewerGet<CallsPage>(page.links.next!)).data).toEqual(forwards[1]!.data);
    }
  });

  it('takes page[before] only with a cursor made for it, and not beside page[after]', async () => {
    const w = freshWindow(7);
    const first = await list({ ...w, 'page[size]': 4 });
    const second = await viewerGet<CallsPage>(first.links.next!);
    const prev = new URL(second.links.prev!, 'http://x').searchParams.get('page[before]')!;
    const next = new URL(second.links.next!, 'http://x').searchParams.get('page[after]')!;
    for (const [params, pointer, message] of [
      [{ ...w, 'page[before]': next }, 'query/page[before]', /other way/],
      [{ ...w, 'page[after]': prev }, 'query/page[after]', /other way/],
      [{ ...w, sort: 'csat', 'page[before]': prev }, 'query/page[before]', /another sort/],
      [{ ...w, 'page[before]': `${prev}x` }, 'query/page[before]', /signature/],
      [{ ...w, 'page[after]': next, 'page[before]': prev }, 'query/page[before]', /not both/],
    ] as const) {
      const problem = await expectProblem(await viewerFetch(`/v1/calls?${query(params)}`), 422, 'validation_failed');
      expect(problem.errors?.[0]?.pointer).toBe(pointer);
      expect(problem.errors?.[0]?.message).toMatch(message);
    }
  });

  it('orders by time, handle time or CSAT, each way, with interaction_id breaking ties', async () => {
    const w = freshWindow(3);
    const byTime = await list({ ...w, 'page[size]': 50 });
    const times = byTime.data.map((r) => r.started_at);
    expect([...times].sort().reverse()).toEqual(times);
    const byHandle = await list({ ...w, sort: 'handle_seconds', 'page[size]': 50 });
    const handles = byHandle.data.map((r) => r.handle_seconds);
    expect([...handles].sort((a, b) => a - b)).toEqual(handles);
    // CSAT descending over two pages: unanswered surveys (null) come last, as 0.
    const first = await list({ ...w, sort: '-csat', 'page[size]': 100 });
    const second = await viewerGet<CallsPage>(first.links.next!);
    const scores = [...first.data, ...second.data].map((r) => r.csat ?? 0);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const fives = first.data.filter((r) => r.csat === 5).map((r) => r.interaction_id);
    expect([...fives].sort().reverse()).toEqual(fives);
  });

  it('applies every filter, and each one narrows the total', async () => {
    const w = freshWindow(14);
    const all = await list({ ...w, 'page[size]': 1 });
    const sample = (await list({ ...w, 'page[size]': 100 })).data;
    const agent = sample[0]!.agent;
    const cases: Array<[Record<string, string | string[]>, (r: CallsPage['data'][number]) => boolean]> = [
      [{ region: 'EMEA' }, (r) => r.customer.region === 'EMEA'],
      [{ region: ['APAC', 'LATAM'] }, (r) => ['APAC', 'LATAM'].includes(r.customer.region!)],
      [{ channel: 'chat,app' }, (r) => ['chat', 'app'].includes(r.channel)],
      [{ issue_type: 'battery' }, (r) => r.issue_type === 'battery'],
      [{ agent_id: agent.agent_id }, (r) => r.agent.agent_id === agent.agent_id],
      [{ team: 'escalations' }, (r) => r.agent.team === 'escalations'],
      [{ fcr: 'false' }, (r) => r.resolved_first_contact === false],
      [{ transferred: 'true' }, (r) => r.transferred === true],
      [{ csat_min: '2', csat_max: '3' }, (r) => r.csat !== null && r.csat >= 2 && r.csat <= 3],
      [{ nps_min: '9' }, (r) => r.nps !== null && r.nps >= 9],
      [{ q: agent.agent_id.toLowerCase() }, (r) => r.agent.agent_id === agent.agent_id],
      [{ q: sample[0]!.interaction_id }, (r) => r.interaction_id === sample[0]!.interaction_id],
    ];
    for (const [filter, holds] of cases) {
      const page = await list({ ...w, ...filter, 'page[size]': 100 });
      expect(page.meta.total, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(page.meta.total, JSON.stringify(filter)).toBeLessThan(all.meta.total);
      for (const r of page.data) expect(holds(r), `${JSON.stringify(filter)} ${JSON.stringify(r)}`).toBe(true);
    }
  });

  it('refuses a cursor that was edited or made for another sort or filter set', async () => {
    const w = freshWindow(7);
    const page = await list({ ...w, 'page[size]': 5 });
    const cursor = new URL(page.links.next!, 'http://x').searchParams.get('page[after]')!;
    const [body, sig] = cursor.split('.');
    const edited = `${body!.slice(0, -2)}${body!.endsWith('A') ? 'B' : 'A'}${body!.slice(-1)}.${sig}`;
    for (const [params, message] of [
      [{ ...w, 'page[after]': edited }, /signature/],
      [{ ...w, 'page[after]': `${body}.${sig}x` }, /signature/],
      [{ ...w, 'page[after]': 'not-a-cursor' }, /malformed/],
      [{ ...w, sort: 'csat', 'page[after]': cursor }, /another sort/],
      [{ ...w, channel: 'call', 'page[after]': cursor }, /another sort or another set of filters/],
    ] as const) {
      const problem = await expectProblem(await viewerFetch(`/v1/calls?${query(params)}`), 422, 'validation_failed');
      expect(problem.errors?.[0]?.pointer).toBe('query/page[after]');
      expect(problem.errors?.[0]?.message).toMatch(message);
    }
  });

  it('pins later pages to the first page’s window', async () => {
    const page = await list({ period: '24h', 'page[size]': 2 });
    const next = await viewerGet<CallsPage>(page.links.next!);
    expect(next.meta.window).toEqual(page.meta.window);
  });

  it('answers bad parameters with 422 naming each one', async () => {
    const w = freshWindow(7);
    const cases: Array<[string, string]> = [
      [query({ ...w, colour: 'red' }), 'query'],
      [query({ ...w, channel: 'fax' }), 'query/channel'],
      [query({ ...w, region: 'Mars' }), 'query/region'],
      [query({ ...w, 'page[size]': 0 }), 'query/page[size]'],
      [query({ ...w, 'page[size]': 101 }), 'query/page[size]'],
      [query({ ...w, 'page[size]': 'ten' }), 'query/page[size]'],
      [query({ ...w, sort: 'agent_name' }), 'query/sort'],
      [query({ ...w, fcr: 'yes' }), 'query/fcr'],
      [query({ ...w, csat_min: '4', csat_max: '2' }), 'query/csat_min'],
      [query({ ...w, csat_min: '9' }), 'query/csat_min'],
      [query({ ...w, nps_max: '-1' }), 'query/nps_max'],
      [query({ start: w.end, end: w.start }), 'query/end'],
      [query({ start: '2024-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' }), 'query/start'],
      [query({ start: w.start }), 'query/end'],
      [query({ ...w, period: '7d' }), 'query/period'],
      [query({ period: 'fortnight' }), 'query/period'],
      [query({ start: '2025-01-01', end: '2025-02-01' }), 'query/start'],
      [query({ ...w, q: "x' OR 1=1 --" }), 'query/q'],
      [query({ ...w, agent_id: Array.from({ length: 2_000 }, (_, i) => `AGT-${i}`) }), 'query/agent_id'],
      [query({ ...w, agent_id: Array.from({ length: 101 }, (_, i) => `AGT-${i}`).join(',') }), 'query/agent_id'],
      [query({ ...w, period: ['7d', '30d'] }), 'query/period'],
    ];
    for (const [qs, pointer] of cases) {
      const problem = await expectProblem(await viewerFetch(`/v1/calls?${qs}`), 422, 'validation_failed');
      expect(problem.errors?.map((e) => e.pointer).some((p) => p.startsWith(pointer)), `${qs}: ${JSON.stringify(problem.errors)}`).toBe(true);
    }
    await expectProblem(await viewerFetch(`/v1/calls?channel=ca%00ll`), 422, 'validation_failed');
  });

  it('needs a signed-in caller', async () => {
    await expectProblem(await call('/v1/calls'), 401, 'unauthenticated');
    await expectProblem(await call('/v1/calls/INT-0000001'), 401, 'unauthenticated');
  });
});

describe('GET /v1/calls/{id}', () => {
  it('answers the contact with its agent, customer, device and the customer’s claims and sessions around it', async () => {
    const one = (await list({ period: '90d', 'page[size]': 1 })).data[0]!;
    const detail = await viewerGet<{
      call: { interaction_id: string };
      agent: { agent_id: string; team: string };
      customer: { customer_id: string; region: string; plan: string };
      device: { device_id: string; os: string } | null;
      claims: Array<{ claim_id: string; opened_at: string }>;
      sessions: Array<{ session_id: string; started_at: string }>;
      around_days: number;
    }>(`/v1/calls/${one.interaction_id}`);
    expect(detail.call).toEqual(one);
    expect(detail.agent.agent_id).toBe(one.agent.agent_id);
    expect(detail.customer).toMatchObject({ customer_id: one.customer.customer_id, region: one.customer.region });
    expect(typeof detail.customer.plan).toBe('string');
    if (one.device) expect(detail.device?.device_id).toBe(one.device.device_id);
    const at = Date.parse(one.started_at);
    for (const item of [...detail.claims.map((c) => c.opened_at), ...detail.sessions.map((s) => s.started_at)]) {
      expect(Math.abs(Date.parse(item) - at)).toBeLessThanOrEqual(detail.around_days * 86_400_000);
    }
  });

  it('is 404 for an unknown contact and 422 for something that is not an id', async () => {
    await expectProblem(await viewerFetch('/v1/calls/INT-9999999'), 404, 'not_found');
    await expectProblem(await viewerFetch(`/v1/calls/${encodeURIComponent("INT' OR '1'='1")}`), 422, 'validation_failed');
  });
});

describe('GET /v1/calls/export', () => {
  it('streams the filtered list as CSV, labelled with its filters, window, sort and as-of', async () => {
    const w = freshWindow(7);
    const params = { ...w, channel: 'email', sort: 'handle_seconds' };
    const total = (await list({ ...params, 'page[size]': 1 })).meta.total;
    const res = await viewerFetch(`/v1/calls/export?${query(params)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="contacts-.*\.csv"$/);
    const text = await res.text();
    const lines = text.trimEnd().split('\r\n');
    const comments = lines.filter((l) => l.startsWith('#'));
    expect(comments.join('\n')).toContain(`# window: ${w.start} to ${w.end}`);
    expect(comments.join('\n')).toContain('# filters: channel=email');
    expect(comments.join('\n')).toContain('# sort: handle_seconds');
    expect(comments.join('\n')).toMatch(/# as_of: \d{4}-\d{2}-\d{2}T/);
    expect(comments.join('\n')).toContain(`# rows: ${total} of ${total}`);
    const [header, ...rows] = lines.filter((l) => !l.startsWith('#'));
    expect(header!.split(',')).toContain('interaction_id');
    expect(rows).toHaveLength(total);
    const channel = header!.split(',').indexOf('channel');
    const handle = header!.split(',').indexOf('handle_seconds');
    expect(rows.every((r) => r.split(',')[channel] === 'email')).toBe(true);
    const handles = rows.map((r) => Number(r.split(',')[handle]));
    expect([...handles].sort((a, b) => a - b)).toEqual(handles);
  });

  it('refuses bad filters before streaming', async () => {
    await expectProblem(await viewerFetch('/v1/calls/export?channel=fax'), 422, 'validation_failed');
    await expectProblem(await viewerFetch('/v1/calls/export?page%5Bsize%5D=5'), 422, 'validation_failed');
  });
});
