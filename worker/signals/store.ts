/**
 * Reading signals: the triage queue (filters, facet counts, keyset pages both ways), one signal
 * with everything behind it in one round trip, the activity trail per signal and per person, and
 * response times measured from that trail.
 */
import { decodeCursor, encodeCursor, scopeHash } from '../analytics/cursor.ts';
import { ApiError } from '../http/errors.ts';
import type { Postgres } from '../services/postgres.ts';
import { CLOSED_STATUSES, PAGE_SIZE_DEFAULT, SEVERITIES, STATUSES, TRANSITIONS } from './schemas.ts';
import type { ActivityEvent, ListQuery, Person, ResponseTimes, SignalDetail, SignalPage, SignalSummary, Status } from './schemas.ts';

type Db = Pick<Postgres, 'query'>;

const PERSON = (alias: string) => `CASE WHEN ${alias}.id IS NULL THEN NULL ELSE json_build_object('id', ${alias}.id, 'email', ${alias}.email, 'name', ${alias}.name) END`;

/** The columns of a SignalSummary; `s` is signals, `au` the assignee, `m` the catalog metric. */
export const SUMMARY_SQL = `SELECT s.id, s.signal_type, s.metric_name, COALESCE(m.display_name, s.metric_name) AS metric_label, s.entity_type, s.entity_id,
  s.entity_label, s.window_start, s.window_end, s.observed_value, s.expected_value, s.z_score, s.direction, s.severity, s.confidence, s.status,
  ${PERSON('au')} AS assignee, s.stale_since IS NOT NULL AS stale, s.detected_at, s.updated_at, s.version
  FROM signals s LEFT JOIN users au ON au.id = s.assignee LEFT JOIN metrics m ON m.name = s.metric_name`;

type Row = Record<string, unknown>;
const iso = (v: unknown) => new Date(v as string).toISOString();
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

export function toSummary(r: Row): SignalSummary {
  return {
    id: String(r.id),
    signal_type: String(r.signal_type),
    metric_name: String(r.metric_name),
    metric_label: String(r.metric_label),
    entity_type: r.entity_type as SignalSummary['entity_type'],
    entity_id: String(r.entity_id),
    entity_label: String(r.entity_label),
    window_start: iso(r.window_start),
    window_end: iso(r.window_end),
    observed_value: Number(r.observed_value),
    expected_value: Number(r.expected_value),
    z_score: Number(r.z_score),
    direction: r.direction as SignalSummary['direction'],
    severity: r.severity as SignalSummary['severity'],
    confidence: Number(r.confidence),
    status: r.status as Status,
    assignee: json<Person | null>(r.assignee) ?? null,
    stale: Boolean(r.stale),
    detected_at: iso(r.detected_at),
    updated_at: iso(r.updated_at),
    version: Number(r.version),
  };
}

export async function summariesById(db: Db, ids: readonly string[]): Promise<Map<string, SignalSummary>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query(`${SUMMARY_SQL} WHERE s.id = ANY($1::text[])`, [ids]);
  return new Map(rows.map((r) => [String(r.id), toSummary(r)]));
}

interface Where {
  clauses: string[];
  params: unknown[];
}

function whereOf(q: ListQuery, me: string, skip: 'status' | 'severity' | null): Where {
  const w: Where = { clauses: [], params: [] };
  const add = (sql: (p: string) => string, value: unknown) => {
    w.params.push(value);
    w.clauses.push(sql(`$${w.params.length}`));
  };
  if (q.status && skip !== 'status') add((p) => `s.status = ANY(${p}::text[])`, q.status.split(','));
  if (q.severity && skip !== 'severity') add((p) => `s.severity = ANY(${p}::text[])`, q.severity.split(','));
  if (q.signal_type) add((p) => `s.signal_type = ${p}`, q.signal_type);
  if (q.metric) add((p) => `s.metric_name = ${p}`, q.metric);
  if (q.entity_type) add((p) => `s.entity_type = ${p}`, q.entity_type);
  if (q.entity_id) add((p) => `s.entity_id = ${p}`, q.entity_id);
  if (q.assignee === 'nobody') w.clauses.push('s.assignee IS NULL');
  else if (q.assignee) add((p) => `s.assignee = ${p}::uuid`, q.assignee === 'me' ? me : q.assignee);
  if (q.since) add((p) => `s.detected_at >= ${p}::timestamptz`, q.since);
  if (q.until) add((p) => `s.detected_at < ${p}::timestamptz`, q.until);
  return w;
}

const whereSql = (w: Where) => (w.clauses.length > 0 ? `WHERE ${w.clauses.join(' AND ')}` : '');

/** The triage queue, newest detection first, a keyset page at a time in either direction. */
export async function listSignals(db: Db, q: ListQuery, me: string, secret: string | undefined, url: URL): Promise<SignalPage> {
  const size = q['page[size]'] ? Number(q['page[size]']) : PAGE_SIZE_DEFAULT;
  if (q['page[after]'] && q['page[before]']) {
    throw new ApiError('validation_failed', 'Give page[after] or page[before], not both.', { errors: [{ pointer: 'query/page[before]', message: 'Not with page[after]' }] });
  }
  const filters = { ...q, assignee: q.assignee === 'me' ? `me:${me}` : q.assignee, 'page[size]': undefined, 'page[after]': undefined, 'page[before]': undefined };
  const scopeFor = (dir: 'after' | 'before') => scopeHash({ listing: 'signals', dir, filters });
  const window: [string, string] = [q.since ?? '', q.until ?? ''];

  const where = whereOf(q, me, null);
  let backward = false;
  if (q['page[after]'] || q['page[before]']) {
    backward = !q['page[after]'];
    const state = await decodeCursor((q['page[after]'] ?? q['page[before]'])!, await scopeFor(backward ? 'before' : 'after'), secret);
    const [at, id] = state.after;
    where.params.push(String(at), String(id));
    const op = backward ? '>' : '<';
    where.clauses.push(`(s.detected_at, s.id) ${op} ($${where.params.length - 1}::timestamptz, $${where.params.length})`);
  }
  const order = backward ? 'ASC' : 'DESC';
  const page = db.query(`${SUMMARY_SQL} ${whereSql(where)} ORDER BY s.detected_at ${order}, s.id ${order} LIMIT ${size + 1}`, where.params);
  const facet = (skip: 'status' | 'severity', column: string) => {
    const w = whereOf(q, me, skip);
    return db.query<{ k: string; n: string | number }>(`SELECT s.${column} AS k, COUNT(*) AS n FROM signals s ${whereSql(w)} GROUP BY 1`, w.params);
  };
  const [rows, byStatus, bySeverity] = await Promise.all([page, facet('status', 'status'), facet('severity', 'severity')]);
  const hasMore = rows.length > size;
  const data = rows.slice(0, size).map(toSummary);
  if (backward) data.reverse();

  const link = async (dir: 'after' | 'before', row: SignalSummary | undefined) => {
    if (!row) return null;
    const cursor = await encodeCursor({ scope: await scopeFor(dir), window, after: [row.detected_at, row.id] }, secret);
    const next = new URL(url);
    next.searchParams.delete('page[after]');
    next.searchParams.delete('page[before]');
    next.searchParams.set(`page[${dir}]`, cursor);
    return `${next.pathname}${next.search}`;
  };
  const cameFrom = Boolean(q['page[after]'] || q['page[before]']);
  const nextExists = backward ? cameFrom : hasMore;
  const prevExists = backward ? hasMore : cameFrom;
  const counts = <T extends readonly string[]>(keys: T, rows: Array<{ k: string; n: string | number }>) => {
    const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<T[number], number>;
    for (const r of rows) if (r.k in out) out[r.k as T[number]] = Number(r.n);
    return out;
  };
  return {
    data,
    meta: { has_more: hasMore, page_size: size, counts: { by_status: counts(STATUSES, byStatus), by_severity: counts(SEVERITIES, bySeverity) } },
    links: {
      self: `${url.pathname}${url.search}`,
      next: nextExists ? await link('after', data[data.length - 1]) : null,
      prev: prevExists ? await link('before', data[0]) : null,
    },
  };
}

/** Activity rows with their actor, and a person for assignee values. */
const ACTIVITY_SQL = `SELECT a.id::text AS id, a.signal_id, a.kind, a.from_value, a.to_value, a.at, ${PERSON('ac')} AS actor,
  ${PERSON('fu')} AS from_person, ${PERSON('tu')} AS to_person
  FROM signal_activity a
  LEFT JOIN users ac ON ac.id = a.actor_id
  LEFT JOIN users fu ON a.kind = 'assignee' AND fu.id::text = a.from_value
  LEFT JOIN users tu ON a.kind = 'assignee' AND tu.id::text = a.to_value`;

export function toActivity(r: Row): ActivityEvent {
  const value = (raw: unknown, person: unknown) => {
    if (raw === null || raw === undefined) return null;
    return r.kind === 'assignee' ? (json<Person | null>(person) ?? String(raw)) : String(raw);
  };
  return {
    id: String(r.id),
    signal_id: String(r.signal_id),
    actor: json<Person | null>(r.actor) ?? null,
    kind: r.kind as ActivityEvent['kind'],
    from: value(r.from_value, r.from_person),
    to: value(r.to_value, r.to_person),
    at: iso(r.at),
  };
}

export async function signalActivity(db: Db, id: string): Promise<ActivityEvent[] | null> {
  const [exists, rows] = await Promise.all([
    db.query('SELECT 1 FROM signals WHERE id = $1', [id]),
    db.query(`${ACTIVITY_SQL} WHERE a.signal_id = $1 ORDER BY a.id`, [id]),
  ]);
  return exists.length === 0 ? null : rows.map(toActivity);
}

/** Activity across signals, newest first, optionally one person's, a keyset page at a time. */
export async function activityPage(
  db: Db,
  q: { actor?: string | undefined; 'page[size]'?: string | undefined; 'page[after]'?: string | undefined },
  me: string,
  secret: string | undefined,
  url: URL,
) {
  const size = q['page[size]'] ? Number(q['page[size]']) : PAGE_SIZE_DEFAULT;
  const actor = q.actor === 'me' ? me : q.actor;
  const scope = await scopeHash({ listing: 'signal-activity', actor: actor ?? null });
  const params: unknown[] = [];
  const clauses: string[] = [];
  if (actor) {
    params.push(actor);
    clauses.push(`a.actor_id = $${params.length}::uuid`);
  }
  if (q['page[after]']) {
    const state = await decodeCursor(q['page[after]'], scope, secret);
    params.push(String(state.after[0]));
    clauses.push(`a.id < $${params.length}::bigint`);
  }
  const rows = await db.query(`${ACTIVITY_SQL} ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY a.id DESC LIMIT ${size + 1}`, params);
  const hasMore = rows.length > size;
  const data = rows.slice(0, size).map(toActivity);
  let next: string | null = null;
  if (hasMore) {
    const last = data[data.length - 1]!;
    const u = new URL(url);
    u.searchParams.set('page[after]', await encodeCursor({ scope, window: ['', ''], after: [last.id, ''] }, secret));
    next = `${u.pathname}${u.search}`;
  }
  return { data, meta: { has_more: hasMore, page_size: size }, links: { self: `${url.pathname}${url.search}`, next } };
}

/** One signal with everything behind it, in one round trip; null when there is none. */
export async function signalDetail(
  db: Db,
  id: string,
  metricInfo: (name: string) => Promise<SignalDetail['metric']>,
): Promise<SignalDetail | null> {
  const [r] = await db.query(
    `SELECT sm.*, x.narrative, x.baseline_stddev, x.model_run_id,
       COALESCE((SELECT json_agg(json_build_object('dimension', c.dimension, 'dimension_value', c.dimension_value, 'contribution', c.contribution, 'rank', c.rank) ORDER BY c.rank)
                 FROM signal_contributions c WHERE c.signal_id = x.id), '[]') AS contributions,
       COALESCE((SELECT json_agg(json_build_object('feature', d.feature, 'feature_value', d.feature_value, 'shap_value', d.shap_value, 'rank', d.rank) ORDER BY d.rank)
                 FROM signal_drivers d WHERE d.signal_id = x.id), '[]') AS drivers,
       COALESCE((SELECT json_agg(json_build_object('id', n.id, 'author', ${PERSON('nu')}, 'body', n.body, 'created_at', n.created_at) ORDER BY n.created_at, n.id)
                 FROM signal_notes n LEFT JOIN users nu ON nu.id = n.author WHERE n.signal_id = x.id), '[]') AS notes,
       COALESCE((SELECT json_agg(row_to_json(t) ORDER BY t.id::bigint) FROM (${ACTIVITY_SQL} WHERE a.signal_id = x.id) t), '[]') AS activity
     FROM signals x, LATERAL (${SUMMARY_SQL} WHERE s.id = x.id) sm
     WHERE x.id = $1`,
    [id],
  );
  if (!r) return null;
  const summary = toSummary(r);
  const metric = await metricInfo(summary.metric_name);
  return {
    ...summary,
    metric_label: metric.label,
    narrative: String(r.narrative),
    baseline_stddev: Number(r.baseline_stddev),
    model_run_id: String(r.model_run_id),
    contributions: json<SignalDetail['contributions']>(r.contributions),
    drivers: json<SignalDetail['drivers']>(r.drivers),
    metric,
    records: { href: `/v1/signals/${encodeURIComponent(summary.id)}/records` },
    tile: { href: `/?metric=${encodeURIComponent(summary.metric_name)}` },
    notes: json<Array<Row>>(r.notes).map((n) => ({ id: String(n.id), author: (n.author as Person | null) ?? null, body: String(n.body), created_at: iso(n.created_at) })),
    activity: json<Row[]>(r.activity).map(toActivity),
    allowed_transitions: [...TRANSITIONS[summary.status]],
  };
}

const DAY_MS = 86_400_000;

/**
 * Per current owner: how many signals arrived in the window (by created_at, when the application
 * first had them), how many were acknowledged and closed, and how long that took, from arrival to
 * the first status event of each kind in the trail.
 */
export async function responseTimes(db: Db, q: { since?: string | undefined; until?: string | undefined }, now = new Date()): Promise<ResponseTimes> {
  const until = q.until ? new Date(q.until) : now;
  const since = q.since ? new Date(q.since) : new Date(until.getTime() - 30 * DAY_MS);
  if (!(since < until)) throw new ApiError('validation_failed', 'since must be before until.', { errors: [{ pointer: 'query/since', message: 'Must be before until' }] });
  const rows = await db.query(
    `WITH scope AS (SELECT id, assignee, created_at FROM signals WHERE created_at >= $1 AND created_at < $2),
     firsts AS (
       SELECT a.signal_id,
         MIN(a.at) FILTER (WHERE a.to_value = 'acknowledged') AS acknowledged_at,
         MIN(a.at) FILTER (WHERE a.to_value = ANY($3::text[])) AS closed_at
       FROM signal_activity a JOIN scope ON scope.id = a.signal_id WHERE a.kind = 'status' GROUP BY a.signal_id),
     measured AS (
       SELECT s.assignee, EXTRACT(EPOCH FROM f.acknowledged_at - s.created_at) AS ack, EXTRACT(EPOCH FROM f.closed_at - s.created_at) AS res
       FROM scope s LEFT JOIN firsts f ON f.signal_id = s.id)
     SELECT ${PERSON('u')} AS owner, COUNT(*) AS count, COUNT(m.ack) AS acknowledged, COUNT(m.res) AS resolved,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY m.ack) AS ack_p50, AVG(m.ack) AS ack_avg,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY m.res) AS res_p50, AVG(m.res) AS res_avg
     FROM measured m LEFT JOIN users u ON u.id = m.assignee
     GROUP BY u.id, u.email, u.name
     ORDER BY COUNT(*) DESC, u.email NULLS LAST`,
    [since.toISOString(), until.toISOString(), [...CLOSED_STATUSES]],
  );
  const n = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);
  return {
    data: rows.map((r) => ({
      owner: json<Person | null>(r.owner) ?? null,
      count: Number(r.count),
      acknowledged: Number(r.acknowledged),
      resolved: Number(r.resolved),
      time_to_acknowledge: { p50_seconds: n(r.ack_p50), avg_seconds: n(r.ack_avg) },
      time_to_resolve: { p50_seconds: n(r.res_p50), avg_seconds: n(r.res_avg) },
    })),
    meta: { since: since.toISOString(), until: until.toISOString() },
  };
}
