/**
 * Contacts one row at a time: the filtered list (keyset pagination, never OFFSET, so page 500 reads
 * what page 1 reads), one contact with its surroundings, and the CSV export.
 */
import { z } from '@hono/zod-openapi';
import type { TypedValue } from '../services/statements.ts';
import { filterPredicate } from './filters.ts';
import type { CallFilters } from './filters.ts';
import type { Window } from './period.ts';
import type { Run } from './run.ts';

export const SORTS = ['-started_at', 'started_at', '-handle_seconds', 'handle_seconds', '-csat', 'csat'] as const;
export type Sort = (typeof SORTS)[number];
export const DEFAULT_SORT: Sort = '-started_at';

/** The sort keys. An unanswered survey sorts as CSAT 0, below every answer, so the key is never null. */
const SORT_KEYS: Record<string, { expr: string; type: 'TIMESTAMP' | 'INT' }> = {
  started_at: { expr: 'started_at', type: 'TIMESTAMP' },
  handle_seconds: { expr: 'handle_seconds', type: 'INT' },
  csat: { expr: 'COALESCE(csat, 0)', type: 'INT' },
};

export const CallSchema = z
  .object({
    interaction_id: z.string(),
    started_at: z.string(),
    ended_at: z.string().nullable(),
    channel: z.string(),
    issue_type: z.string(),
    handle_seconds: z.number().nullable(),
    resolved_first_contact: z.boolean().nullable(),
    transferred: z.boolean().nullable(),
    csat: z.number().nullable(),
    nps: z.number().nullable(),
    agent: z.object({ agent_id: z.string(), name: z.string().nullable(), team: z.string().nullable() }),
    customer: z.object({ customer_id: z.string(), region: z.string().nullable(), segment: z.string().nullable() }),
    device: z.object({ device_id: z.string(), make: z.string().nullable(), model: z.string().nullable() }).nullable(),
  })
  .openapi('Call');
export type Call = z.infer<typeof CallSchema>;

const LIST_COLUMNS = `i.interaction_id, i.started_at, i.ended_at, i.channel, i.issue_type, i.handle_seconds, i.resolved_first_contact,
  i.transferred, i.csat, i.nps, i.customer_id, c.region AS customer_region, c.segment AS customer_segment,
  i.agent_id, a.agent_name, a.team AS agent_team, i.device_id, d.make AS device_make, d.model AS device_model`;

/** Flat columns of a list row, as the export writes them. */
export const EXPORT_COLUMNS = [
  'interaction_id', 'started_at', 'ended_at', 'channel', 'issue_type', 'handle_seconds', 'resolved_first_contact', 'transferred', 'csat', 'nps',
  'customer_id', 'customer_region', 'customer_segment', 'agent_id', 'agent_name', 'agent_team', 'device_id', 'device_make', 'device_model',
] as const;

export interface PageRequest {
  filters: CallFilters;
  window: Window;
  sort: Sort;
  /** The last row of the previous page: its sort value and id. */
  after?: [string | number, string];
  /** Or the first row of the next page, to read the page before it (rows come back nearest first). */
  before?: [string | number, string];
  limit: number;
}

/** One page: the filtered rows after the cursor, `limit` of them, joined to their agent, customer and device. */
export async function fetchPage(run: Run, req: PageRequest, timeoutMs?: number): Promise<Array<Record<string, unknown>>> {
  const predicate = filterPredicate(req.filters, [req.window], run.qualify);
  // Reading backwards is reading forwards in the opposite order, from the same kind of position.
  const desc = req.sort.startsWith('-') !== (req.before !== undefined);
  const key = SORT_KEYS[req.sort.replace('-', '')]!;
  const params: Record<string, TypedValue> = { ...predicate.params };
  let keyset = '';
  const position = req.after ?? req.before;
  if (position) {
    const op = desc ? '<' : '>';
    params.k_value = { value: key.type === 'TIMESTAMP' ? new Date(String(position[0])) : Number(position[0]), type: key.type };
    params.k_id = { value: position[1], type: 'STRING' };
    // The first term is implied by the second; it is there because it is a plain range on the sort
    // key, which the engine can answer from its zone maps (data laid out by time) and skip the
    // pages already read, where the OR alone makes it test every row of the window.
    keyset = ` WHERE ${key.expr} ${op}= :k_value AND (${key.expr} ${op} :k_value OR (${key.expr} = :k_value AND interaction_id ${op} :k_id))`;
  }
  const order = `cc_sort ${desc ? 'DESC' : 'ASC'}, interaction_id ${desc ? 'DESC' : 'ASC'}`;
  // The page is cut from interactions alone; only its rows are joined. Customers and devices are
  // narrowed to the page's own keys first: joined whole, the engine builds a hash table over every
  // device (a quarter of a million at scale) to look up a page of them, where the IN list lets it
  // read just those rows by primary key.
  const sql =
    `WITH cc_filtered_interactions AS (SELECT * FROM ${run.qualify('interactions')} WHERE ${predicate.where}),\n` +
    `cc_page AS (SELECT *, ${key.expr} AS cc_sort FROM cc_filtered_interactions${keyset} ORDER BY ${order} LIMIT ${Math.trunc(req.limit)})\n` +
    `SELECT ${LIST_COLUMNS}, i.cc_sort FROM cc_page i\n` +
    `LEFT JOIN (SELECT customer_id, region, segment FROM ${run.qualify('customers')} WHERE customer_id IN (SELECT customer_id FROM cc_page)) c ON c.customer_id = i.customer_id\n` +
    `LEFT JOIN ${run.qualify('agents')} a ON a.agent_id = i.agent_id\n` +
    `LEFT JOIN (SELECT device_id, make, model FROM ${run.qualify('devices')} WHERE device_id IN (SELECT device_id FROM cc_page)) d ON d.device_id = i.device_id\n` +
    `ORDER BY i.${order.replace(', interaction_id', ', i.interaction_id')}`;
  return (await run.statement({ sql, params }, timeoutMs)).rows;
}

/** How many contacts match: the list's total, the summary's count and any breakdown's sum agree on it. */
export async function countCalls(run: Run, filters: CallFilters, window: Window): Promise<number> {
  const predicate = filterPredicate(filters, [window], run.qualify);
  const answer = await run.statement({ sql: `SELECT COUNT(*) AS total FROM ${run.qualify('interactions')} WHERE ${predicate.where}`, params: predicate.params });
  return Number(answer.rows[0]?.total ?? 0);
}

export function toCall(r: Record<string, unknown>): Call {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const n = (v: unknown) => (typeof v === 'number' ? v : null);
  const b = (v: unknown) => (typeof v === 'boolean' ? v : null);
  return {
    interaction_id: String(r.interaction_id),
    started_at: String(r.started_at),
    ended_at: s(r.ended_at),
    channel: String(r.channel),
    issue_type: String(r.issue_type),
    handle_seconds: n(r.handle_seconds),
    resolved_first_contact: b(r.resolved_first_contact),
    transferred: b(r.transferred),
    csat: n(r.csat),
    nps: n(r.nps),
    agent: { agent_id: String(r.agent_id), name: s(r.agent_name), team: s(r.agent_team) },
    customer: { customer_id: String(r.customer_id), region: s(r.customer_region), segment: s(r.customer_segment) },
    device: r.device_id === null || r.device_id === undefined ? null : { device_id: String(r.device_id), make: s(r.device_make), model: s(r.device_model) },
  };
}

export const CallDetailSchema = z
  .object({
    call: CallSchema,
    agent: z.record(z.string(), z.unknown()).nullable(),
    customer: z.record(z.string(), z.unknown()).nullable(),
    device: z.record(z.string(), z.unknown()).nullable(),
    claims: z.array(z.record(z.string(), z.unknown())).openapi({ description: 'The customer’s claims opened within 30 days either side of the contact, oldest first (at most 20)' }),
    sessions: z.array(z.record(z.string(), z.unknown())).openapi({ description: 'The customer’s issue sessions started within 30 days either side of the contact, oldest first (at most 20)' }),
    around_days: z.number(),
  })
  .openapi('CallDetail');
export type CallDetail = z.infer<typeof CallDetailSchema>;

export const AROUND_DAYS = 30;
const AROUND_LIMIT = 20;

/** One contact with its agent, customer and device, and the same customer's claims and sessions around it; null when there is none. */
export async function fetchDetail(run: Run, id: string): Promise<CallDetail | null> {
  const params: Record<string, TypedValue> = { id: { value: id, type: 'STRING' } };
  const q = run.qualify;
  // As for a page: the customer and device are read by their keys, not joined whole (joined whole,
  // the engine hashed every device to find one).
  const contact = run.statement({
    sql:
      `WITH cc_contact AS (SELECT * FROM ${q('interactions')} WHERE interaction_id = :id)\n` +
      `SELECT ${LIST_COLUMNS}, c.plan AS customer_plan, c.signup_date AS customer_signup_date, a.region AS agent_region,\n` +
      `  a.hired_on AS agent_hired_on, d.os AS device_os, d.purchased_on AS device_purchased_on\n` +
      `FROM cc_contact i\n` +
      `LEFT JOIN (SELECT * FROM ${q('customers')} WHERE customer_id IN (SELECT customer_id FROM cc_contact)) c ON c.customer_id = i.customer_id\n` +
      `LEFT JOIN ${q('agents')} a ON a.agent_id = i.agent_id\n` +
      `LEFT JOIN (SELECT * FROM ${q('devices')} WHERE device_id IN (SELECT device_id FROM cc_contact)) d ON d.device_id = i.device_id`,
    params,
  });
  const around = (table: string, alias: string, columns: string, at: string) =>
    run.statement({
      sql:
        `SELECT ${columns} FROM ${q(table)} ${alias} JOIN ${q('interactions')} i ON i.customer_id = ${alias}.customer_id\n` +
        `WHERE i.interaction_id = :id AND ${alias}.${at} >= i.started_at - INTERVAL '${AROUND_DAYS}' DAY AND ${alias}.${at} < i.started_at + INTERVAL '${AROUND_DAYS}' DAY\n` +
        `ORDER BY ${alias}.${at} ASC LIMIT ${AROUND_LIMIT}`,
      params,
    });
  const [one, claims, sessions] = await Promise.all([
    contact,
    around('claims', 'cl', 'cl.claim_id, cl.device_id, cl.product, cl.claim_type, cl.status, cl.region, cl.opened_at, cl.closed_at, cl.claim_cost, cl.cost_avoided', 'opened_at'),
    around('issue_sessions', 's', 's.session_id, s.device_id, s.issue_type, s.channel, s.started_at, s.resolved_at, s.outcome, s.nps_impact', 'started_at'),
  ]);
  const r = one.rows[0];
  if (!r) return null;
  return {
    call: toCall(r),
    agent: { agent_id: r.agent_id, agent_name: r.agent_name, team: r.agent_team, region: r.agent_region, hired_on: r.agent_hired_on },
    customer: { customer_id: r.customer_id, region: r.customer_region, segment: r.customer_segment, plan: r.customer_plan, signup_date: r.customer_signup_date },
    device: r.device_id === null ? null : { device_id: r.device_id, make: r.device_make, model: r.device_model, os: r.device_os, purchased_on: r.device_purchased_on },
    claims: claims.rows,
    sessions: sessions.rows,
    around_days: AROUND_DAYS,
  };
}
