import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../worker/auth/roles.ts';
import { STATUSES, TRANSITIONS } from '../../worker/signals/schemas.ts';
import type { ActivityEvent, BulkResult, Note, ResponseTimes, SignalDetail, SignalPage, Status } from '../../worker/signals/schemas.ts';
import type { Postgres } from '../../worker/services/postgres.ts';
import { LOCAL_EMAIL, authHeaders, call, expectProblem, json, listen } from './helpers.ts';
import { database, insertSignals, purgeSignals, unique, userId } from './signals-fixtures.ts';

const prefix = `wf${unique()}`;
let db: Postgres;
let editorId: string;
let adminId: string;
let viewerId: string;

async function req(role: Role | null, path: string, init: { method?: string; body?: unknown; raw?: string } = {}, extraEnv?: Record<string, string>) {
  const headers: Record<string, string> = role ? await authHeaders(role) : {};
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] = 'application/json';
  const request = { method: init.method ?? 'GET', headers, ...(init.raw !== undefined ? { body: init.raw } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) };
  if (!extraEnv) return call(path, request);
  const { createApi } = await import('../../worker/api.ts');
  return createApi().request(path, request, { ...env, ...extraEnv });
}

const detail = async (id: string) => json<SignalDetail>(await req('viewer', `/v1/signals/${id}`));
const patch = (role: Role, id: string, body: unknown) => req(role, `/v1/signals/${id}`, { method: 'PATCH', body });

beforeAll(async () => {
  db = database();
  editorId = await userId(db, LOCAL_EMAIL.editor);
  adminId = await userId(db, LOCAL_EMAIL.admin);
  viewerId = await userId(db, LOCAL_EMAIL.viewer);
});

afterAll(async () => {
  await purgeSignals(db, prefix);
  await db.close();
});

describe('signals list', () => {
  const p = `${prefix}l`;
  const entity = `${p}-entity`;
  beforeAll(async () => {
    const signals = Array.from({ length: 7 }, (_, i) => ({
      severity: i < 3 ? 'critical' : 'low',
      status: (i === 6 ? 'resolved' : 'new') as Status,
      entity_id: entity,
      assignee: i === 0 ? editorId : null,
    }));
    await insertSignals(db, p, signals);
  });

  it('filters, counts by status and severity, and pages both ways with signed cursors', async () => {
    const first = await json<SignalPage>(await req('viewer', `/v1/signals?entity_id=${entity}&page[size]=3`));
    expect(first.data.map((s) => s.id)).toEqual([`${p}-6`, `${p}-5`, `${p}-4`]);
    expect(first.meta.has_more).toBe(true);
    expect(first.meta.counts.by_status).toMatchObject({ new: 6, resolved: 1, acknowledged: 0 });
    expect(first.meta.counts.by_severity).toMatchObject({ critical: 3, low: 4 });
    expect(first.links.prev).toBeNull();
    const second = await json<SignalPage>(await req('viewer', first.links.next!));
    expect(second.data.map((s) => s.id)).toEqual([`${p}-3`, `${p}-2`, `${p}-1`]);
    const third = await json<SignalPage>(await req('viewer', second.links.next!));
    expect(third.data.map((s) => s.id)).toEqual([`${p}-0`]);
    expect(third.links.next).toBeNull();
    const back = await json<SignalPage>(await req('viewer', third.links.prev!));
    expect(back.data.map((s) => s.id)).toEqual([`${p}-3`, `${p}-2`, `${p}-1`]);
    const start = await json<SignalPage>(await req('viewer', back.links.prev!));
    expect(start.data.map((s) => s.id)).toEqual([`${p}-6`, `${p}-5`, `${p}-4`]);
    expect(start.links.prev).toBeNull();

    // Status filters narrow the rows but not the status counts; a cursor is bound to its filters.
    const open = await json<SignalPage>(await req('viewer', `/v1/signals?entity_id=${entity}&status=new,acknowledged&severity=critical`));
    expect(open.data).toHaveLength(3);
    expect(open.meta.counts.by_status).toMatchObject({ new: 3, resolved: 0 });
    expect(open.meta.counts.by_severity).toMatchObject({ critical: 3, low: 3 });
    const cursor = new URL(first.links.next!, 'http://x').searchParams.get('page[after]')!;
    await expectProblem(await req('viewer', `/v1/signals?entity_id=${entity}&status=new&page[after]=${encodeURIComponent(cursor)}`), 422, 'validation_failed');
    await expectProblem(await req('viewer', `/v1/signals?entity_id=${entity}&page[after]=${encodeURIComponent(`${cursor.slice(0, -2)}xx`)}`), 422, 'validation_failed');
  });

  it('filters by assignee: me, nobody, or a user id', async () => {
    const mine = await json<SignalPage>(await req('editor', `/v1/signals?entity_id=${entity}&assignee=me`));
    expect(mine.data.map((s) => s.id)).toEqual([`${p}-0`]);
    expect(mine.data[0]!.assignee).toMatchObject({ id: editorId, email: LOCAL_EMAIL.editor });
    expect((await json<SignalPage>(await req('viewer', `/v1/signals?entity_id=${entity}&assignee=${editorId}`))).data).toHaveLength(1);
    expect((await json<SignalPage>(await req('viewer', `/v1/signals?entity_id=${entity}&assignee=nobody`))).data).toHaveLength(6);
    expect((await json<SignalPage>(await req('admin', `/v1/signals?entity_id=${entity}&assignee=me`))).data).toHaveLength(0);
  });

  it('refuses bad filters and pages with 422', async () => {
    await expectProblem(await req('viewer', '/v1/signals?status=open'), 422, 'validation_failed');
    await expectProblem(await req('viewer', '/v1/signals?page[size]=101'), 422, 'validation_failed');
    await expectProblem(await req('viewer', '/v1/signals?assignee=someone'), 422, 'validation_failed');
    await expectProblem(await req('viewer', '/v1/signals?since=yesterday'), 422, 'validation_failed');
    await expectProblem(await req('viewer', '/v1/signals?colour=red'), 422, 'validation_failed');
    await expectProblem(await req(null, '/v1/signals'), 401, 'unauthenticated');
  });
});

describe('signal detail', () => {
  const p = `${prefix}d`;
  let id: string;
  beforeAll(async () => {
    id = (await insertSignals(db, p, [{ metric_name: 'claim_volume', entity_type: 'region', entity_id: 'EMEA' }]))[0]!;
    await db.query(
      `INSERT INTO signal_contributions (signal_id, dimension, dimension_value, contribution, rank) VALUES ($1, 'claim_type', 'theft', 0.7, 1), ($1, 'claim_type', 'loss', 0.3, 2)`,
      [id],
    );
    await db.query(`INSERT INTO signal_drivers (signal_id, feature, feature_value, shap_value, rank) VALUES ($1, 'day_of_week', 'Monday', 2.5, 2), ($1, 'residual', '', 9.5, 1)`, [id]);
  });

  it('carries contributions, drivers, narrative, the metric, its links and the workflow it allows', async () => {
    const d = await detail(id);
    expect(d.contributions.map((c) => [c.dimension_value, c.rank])).toEqual([['theft', 1], ['loss', 2]]);
    expect(d.drivers.map((x) => x.feature)).toEqual(['residual', 'day_of_week']);
    expect(d.narrative).toBe('Fixture signal');
    expect(d.metric).toMatchObject({ name: 'claim_volume', label: 'Claim volume', unit: 'count', source: 'databricks' });
    expect(d.metric_label).toBe('Claim volume');
    expect(d.records.href).toBe(`/v1/signals/${id}/records`);
    expect(d.allowed_transitions).toEqual(['acknowledged', 'false_positive', 'expected']);
    expect(d.stale).toBe(true);
    await expectProblem(await req('viewer', `/v1/signals/${p}-missing`), 404, 'not_found');
    await expectProblem(await req('viewer', '/v1/signals/bad%20id'), 422, 'validation_failed');
  });

  it('records: the tile drill-down of the metric in the signal’s window, filtered to its entity', async () => {
    const r = await json<{ table: string; window: { start: string; end: string }; entity_filter: { column: string; value: string } | null; sql: string; rows: unknown[] }>(
      await req('viewer', `/v1/signals/${id}/records?page_size=5`),
    );
    expect(r.table).toBe('claims');
    expect(r.entity_filter).toEqual({ column: 'region', value: 'EMEA' });
    expect(r.window).toEqual({ start: '2025-12-31T00:00:00.000Z', end: '2026-01-01T00:00:00.000Z' });
    expect(r.sql).toContain('region');
  });
});

describe('workflow', () => {
  it('allows exactly the transitions the workflow lists, from every status to every other', async () => {
    const p = `${prefix}t`;
    const pairs = STATUSES.flatMap((from) => STATUSES.filter((to) => to !== from).map((to) => ({ from, to })));
    const ids = await insertSignals(db, p, pairs.map(({ from }) => ({ status: from })));
    await Promise.all(
      pairs.map(async ({ from, to }, i) => {
        const res = await patch('editor', ids[i]!, { status: to, version: 1 });
        if (TRANSITIONS[from].includes(to)) {
          const d = await json<SignalDetail>(res);
          expect(d.status).toBe(to);
          expect(d.version).toBe(2);
        } else {
          const body = JSON.parse(await res.clone().text()) as { signal?: { status: string } };
          await expectProblem(res, 409, 'signal_transition_invalid');
          expect(body.signal?.status).toBe(from);
        }
      }),
    );
    const rows = await db.query<{ id: string; status: string; acknowledged_at: string | null; resolved_at: string | null }>(
      'SELECT id, status, acknowledged_at, resolved_at FROM signals WHERE id = ANY($1::text[])',
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    pairs.forEach(({ from, to }, i) => {
      const row = byId.get(ids[i]!)!;
      if (!TRANSITIONS[from].includes(to)) return expect(row.status).toBe(from);
      expect(row.status).toBe(to);
      if (to === 'acknowledged') expect(row.acknowledged_at).not.toBeNull();
      if (['resolved', 'false_positive', 'expected'].includes(to)) expect(row.resolved_at).not.toBeNull();
      else expect(row.resolved_at).toBeNull();
    });
  });

  it('a transition not allowed answers 409 with the signal as it is', async () => {
    const [id] = await insertSignals(db, `${prefix}x`, [{ status: 'new' }]);
    const res = await patch('editor', id!, { status: 'resolved', version: 1 });
    const body = JSON.parse(await res.clone().text()) as { signal: { status: string; version: number } };
    await expectProblem(res, 409, 'signal_transition_invalid');
    expect(body.signal).toMatchObject({ status: 'new', version: 1 });
  });

  it('two people at once: one wins, the other gets signal_conflict with the current state', async () => {
    const [id] = await insertSignals(db, `${prefix}c`, [{ status: 'new' }]);
    const [a, b] = await Promise.all([
      patch('editor', id!, { status: 'acknowledged', version: 1 }),
      patch('admin', id!, { status: 'false_positive', version: 1 }),
    ]);
    const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
    const won = await json<SignalDetail>(winner);
    const lost = JSON.parse(await loser.clone().text()) as { signal: { status: string; version: number } };
    await expectProblem(loser, 409, 'signal_conflict');
    expect(lost.signal).toEqual(expect.objectContaining({ status: won.status, version: 2 }));
    expect((await detail(id!)).activity.filter((e) => e.kind === 'status')).toHaveLength(1);
  });

  it('assigns to me, to a user, and to nobody; refuses unknown users and viewers; viewers cannot triage', async () => {
    const [id] = await insertSignals(db, `${prefix}a`, [{}]);
    let d = await json<SignalDetail>(await patch('editor', id!, { assignee: 'me', version: 1 }));
    expect(d.assignee).toEqual({ id: editorId, email: LOCAL_EMAIL.editor, name: expect.any(String) });
    d = await json<SignalDetail>(await patch('editor', id!, { assignee: adminId, version: d.version }));
    expect(d.assignee?.id).toBe(adminId);
    await expectProblem(await patch('editor', id!, { assignee: crypto.randomUUID(), version: d.version }), 422, 'validation_failed');
    await expectProblem(await patch('editor', id!, { assignee: viewerId, version: d.version }), 422, 'validation_failed');
    await expectProblem(await patch('editor', id!, { assignee: 'nobody', version: d.version }), 422, 'validation_failed');
    await expectProblem(await patch('editor', id!, { version: d.version }), 422, 'validation_failed');
    await expectProblem(await patch('viewer', id!, { assignee: 'me', version: d.version }), 403, 'forbidden');
    d = await json<SignalDetail>(await patch('admin', id!, { assignee: null, status: 'acknowledged', version: d.version }));
    expect(d.assignee).toBeNull();
    expect(d.status).toBe('acknowledged');
    const [row] = await db.query<{ assigned_by: string | null }>('SELECT assigned_by FROM signals WHERE id = $1', [id]);
    expect(row!.assigned_by).toBe('person');

    const trail = d.activity.map((e) => [e.kind, typeof e.from === 'object' && e.from ? e.from.id : e.from, typeof e.to === 'object' && e.to ? e.to.id : e.to, e.actor?.id]);
    expect(trail).toEqual([
      ['assignee', null, editorId, editorId],
      ['assignee', editorId, adminId, editorId],
      ['status', 'new', 'acknowledged', adminId],
      ['assignee', adminId, null, adminId],
    ]);
  });

  it('notes join the trail; empty, over 4,000 characters, NUL bytes and viewers are refused', async () => {
    const [id] = await insertSignals(db, `${prefix}n`, [{}]);
    const note = await json<Note>(await req('editor', `/v1/signals/${id}/notes`, { method: 'POST', body: { body: '  Looked at EMEA claims; a storm.  ' } }), 201);
    expect(note).toMatchObject({ body: 'Looked at EMEA claims; a storm.', author: { id: editorId } });
    await json<Note>(await req('editor', `/v1/signals/${id}/notes`, { method: 'POST', body: { body: 'é'.repeat(4_000) } }), 201);
    await expectProblem(await req('editor', `/v1/signals/${id}/notes`, { method: 'POST', body: { body: 'x'.repeat(4_001) } }), 422, 'validation_failed');
    await expectProblem(await req('editor', `/v1/signals/${id}/notes`, { method: 'POST', body: { body: '   ' } }), 422, 'validation_failed');
    const nul = await req('editor', `/v1/signals/${id}/notes`, { method: 'POST', raw: '{"body":"a\\u0000b"}' });
    expect([400, 422]).toContain(nul.status);
    await nul.text();
    await expectProblem(await req('viewer', `/v1/signals/${id}/notes`, { method: 'POST', body: { body: 'hi' } }), 403, 'forbidden');
    await expectProblem(await req('editor', `/v1/signals/${prefix}n-none/notes`, { method: 'POST', body: { body: 'hi' } }), 404, 'not_found');
    const d = await detail(id!);
    expect(d.notes.map((n) => n.body)).toEqual(['Looked at EMEA claims; a storm.', 'é'.repeat(4_000)]);
    expect(d.activity.filter((e) => e.kind === 'note').map((e) => e.to)).toEqual(d.notes.map((n) => n.id));
  });
});

describe('bulk', () => {
  it('judges each id on its own: applied, conflict, invalid, not_found', async () => {
    const ids = await insertSignals(db, `${prefix}b`, [{ status: 'new' }, { status: 'new' }, { status: 'resolved' }, { status: 'acknowledged' }]);
    const result = await json<BulkResult>(
      await req('editor', '/v1/signals/bulk', {
        method: 'POST',
        body: { ids: [ids[0], { id: ids[1], version: 7 }, ids[2], ids[3], `${prefix}b-none`], status: 'acknowledged', assignee: 'me' },
      }),
    );
    expect(result.results.map((r) => [r.id, r.result, r.code ?? null])).toEqual([
      [ids[0], 'applied', null],
      [ids[1], 'conflict', 'signal_conflict'],
      [ids[2], 'applied', null],
      [ids[3], 'applied', null],
      [`${prefix}b-none`, 'not_found', 'not_found'],
    ]);
    expect(result.meta).toEqual({ applied: 3, conflict: 1, invalid: 0, not_found: 1 });
    expect(result.results[0]!.signal).toMatchObject({ status: 'acknowledged', assignee: { id: editorId } });
    // resolved → acknowledged is the reopen; acknowledged stays and is assigned.
    expect(result.results[2]!.signal).toMatchObject({ status: 'acknowledged' });
    expect(result.results[3]!.signal).toMatchObject({ status: 'acknowledged', assignee: { id: editorId }, version: 2 });

    const invalid = await json<BulkResult>(await req('editor', '/v1/signals/bulk', { method: 'POST', body: { ids: [ids[0]], status: 'new' } }));
    expect(invalid.results[0]).toMatchObject({ result: 'invalid', code: 'signal_transition_invalid' });
  });

  it('takes 500 ids in one request and refuses 501, an empty list and viewers', async () => {
    const ids = await insertSignals(db, `${prefix}h`, Array.from({ length: 500 }, () => ({})));
    const started = Date.now();
    const result = await json<BulkResult>(await req('editor', '/v1/signals/bulk', { method: 'POST', body: { ids, assignee: 'me' } }));
    expect(result.meta.applied).toBe(500);
    expect(Date.now() - started).toBeLessThan(10_000);
    const [count] = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM signal_activity WHERE signal_id = ANY($1::text[]) AND kind = 'assignee'`, [ids]);
    expect(Number(count!.n)).toBe(500);
    await expectProblem(await req('editor', '/v1/signals/bulk', { method: 'POST', body: { ids: [...ids, `${prefix}h-x`], status: 'acknowledged' } }), 422, 'validation_failed');
    await expectProblem(await req('editor', '/v1/signals/bulk', { method: 'POST', body: { ids: [], status: 'acknowledged' } }), 422, 'validation_failed');
    await expectProblem(await req('editor', '/v1/signals/bulk', { method: 'POST', body: { ids: ids.slice(0, 2) } }), 422, 'validation_failed');
    await expectProblem(await req('viewer', '/v1/signals/bulk', { method: 'POST', body: { ids: ids.slice(0, 2), status: 'acknowledged' } }), 403, 'forbidden');
    const huge = await req('editor', '/v1/signals/bulk', { method: 'POST', raw: JSON.stringify({ ids: Array.from({ length: 100_000 }, (_, i) => `${prefix}-${i}`), status: 'acknowledged' }) });
    expect([413, 422]).toContain(huge.status);
    await huge.text();
  });
});

describe('activity', () => {
  it('per signal oldest first, per actor newest first with a cursor, and it cannot be edited', async () => {
    const [id] = await insertSignals(db, `${prefix}v`, [{}]);
    let d = await json<SignalDetail>(await patch('admin', id!, { status: 'acknowledged', version: 1 }));
    d = await json<SignalDetail>(await patch('admin', id!, { status: 'investigating', version: d.version }));
    d = await json<SignalDetail>(await patch('admin', id!, { status: 'resolved', version: d.version }));
    const trail = await json<{ data: ActivityEvent[] }>(await req('viewer', `/v1/signals/${id}/activity`));
    expect(trail.data.map((e) => [e.kind, e.from, e.to])).toEqual([
      ['status', 'new', 'acknowledged'],
      ['status', 'acknowledged', 'investigating'],
      ['status', 'investigating', 'resolved'],
    ]);
    const mine = await json<{ data: ActivityEvent[]; links: { next: string | null } }>(await req('admin', '/v1/signals/activity?actor=me&page[size]=2'));
    expect(mine.data.map((e) => e.to)).toEqual(['resolved', 'investigating']);
    expect(mine.data.every((e) => e.actor?.id === adminId)).toBe(true);
    const more = await json<{ data: ActivityEvent[] }>(await req('admin', mine.links.next!));
    expect(more.data[0]!.to).toBe('acknowledged');

    await expect(db.query(`UPDATE signal_activity SET to_value = 'new' WHERE signal_id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM signal_activity WHERE signal_id = $1`, [id])).rejects.toThrow(/append-only/);
    await expectProblem(await req('viewer', `/v1/signals/${prefix}v-none/activity`), 404, 'not_found');
  });

  it('response times per owner come from the trail', async () => {
    const [id] = await insertSignals(db, `${prefix}r`, [{}]);
    await db.query(`UPDATE signals SET created_at = now() - interval '2 hours' WHERE id = $1`, [id]);
    let d = await json<SignalDetail>(await patch('editor', id!, { status: 'acknowledged', assignee: 'me', version: 1 }));
    d = await json<SignalDetail>(await patch('editor', id!, { status: 'resolved', version: d.version }));
    const times = await json<ResponseTimes>(await req('viewer', '/v1/signals/response-times'));
    const editor = times.data.find((r) => r.owner?.id === editorId)!;
    expect(editor.count).toBeGreaterThanOrEqual(1);
    expect(editor.resolved).toBeGreaterThanOrEqual(1);
    expect(editor.time_to_acknowledge.avg_seconds).toBeGreaterThan(0);
    expect(editor.time_to_resolve.avg_seconds).toBeGreaterThanOrEqual(7_000);
    await expectProblem(await req('viewer', '/v1/signals/response-times?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z'), 422, 'validation_failed');
  });
});

describe('live', () => {
  it('a status or assignee change reaches the dashboard hub as signal_update', async () => {
    const [id] = await insertSignals(db, `${prefix}s`, [{}]);
    const socket = await listen('default');
    await json<SignalDetail>(await patch('editor', id!, { assignee: 'me', version: 1 }));
    await socket.until(() => socket.messages.some((m) => m.type === 'signal_update' && m.data?.signal_id === id));
    const message = socket.messages.find((m) => m.type === 'signal_update' && m.data?.signal_id === id)!;
    expect(message.data).toMatchObject({ signal_id: id, status: 'new', kind: 'assignee', version: 2, stale: true, assignee: { id: editorId }, actor: { id: editorId } });
    const [row] = await db.query<{ published_seq: string | null }>(`SELECT published_seq FROM events WHERE type = 'signal_update' AND payload->>'signal_id' = $1`, [id]);
    expect(row!.published_seq).not.toBeNull();
  });
});

describe('faults', () => {
  it('Postgres down: 503 postgres_unavailable, nothing changed', async () => {
    const [id] = await insertSignals(db, `${prefix}f`, [{}]);
    const down = { NEON_WS_PROXY: '127.0.0.1:9/v2', NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql' };
    await expectProblem(await req('editor', `/v1/signals/${id}`, { method: 'PATCH', body: { status: 'acknowledged', version: 1 } }, down), 503, 'postgres_unavailable');
    await expectProblem(await req('viewer', '/v1/signals', {}, down), 503, 'postgres_unavailable');
    expect((await detail(id!)).status).toBe('new');
  });
});
