import { env } from 'cloudflare:test';
import { loadConfig } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import type { Postgres } from '../../worker/services/postgres.ts';
import type { IncidentDetail } from '../../worker/incidents/schemas.ts';
import { IncidentDetailSchema } from '../../worker/incidents/schemas.ts';
import { authHeaders, call, vars } from './helpers.ts';

/** A Postgres client on the run's database, closed by the caller's `using`-less finally. */
export async function withDb<T>(fn: (db: Postgres) => Promise<T>): Promise<T> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const db = createPostgres(loaded.config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export async function api(path: string, role: 'viewer' | 'editor' | 'admin' | null, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return call(path, {
    method: init.method ?? 'GET',
    headers: { ...(role ? await authHeaders(role) : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
  });
}

export async function startIncident(body: unknown, role: 'editor' | 'admin' = 'editor'): Promise<{ incident_id: string; status: string }> {
  const res = await api('/v1/incidents', role, { method: 'POST', body });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`start answered ${res.status}: ${text}`);
  return JSON.parse(text) as { incident_id: string; status: string };
}

export async function detail(id: string): Promise<IncidentDetail> {
  const res = await api(`/v1/incidents/${id}`, 'viewer');
  const text = await res.text();
  if (res.status !== 200) throw new Error(`detail answered ${res.status}: ${text}`);
  return IncidentDetailSchema.parse(JSON.parse(text));
}

/** Polls the incident until `done` holds (bounded). */
export async function waitFor(id: string, done: (d: IncidentDetail) => boolean, timeoutMs = 15_000): Promise<IncidentDetail> {
  const until = Date.now() + timeoutMs;
  let last: IncidentDetail | undefined;
  while (Date.now() < until) {
    last = await detail(id);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`incident ${id} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last?.status)} ${JSON.stringify(last?.timeline.map((t) => `${t.action_id}:${t.status}`))}`);
}

/** What the stack's Slack stand-in received for one incident. */
export async function webhookDeliveries(incidentId: string): Promise<Array<{ body: { text: string; blocks: unknown[] } }>> {
  const res = await fetch(`${vars.STACK_WEBHOOK_URL}/received`);
  const { received } = (await res.json()) as { received: Array<{ body: { text: string; blocks: unknown[] } }> };
  return received.filter((r) => JSON.stringify(r.body).includes(incidentId));
}

/** Stores an incident waiting for approval that no workflow runs (to reach the API's error paths). */
export async function orphanWaitingIncident(): Promise<string> {
  const id = crypto.randomUUID();
  await withDb((db) =>
    db.query(
      `INSERT INTO incidents (incident_id, scenario, title, severity, status, affected_services, approval_required, approval_state, approval_deadline)
       VALUES ($1, 'service_down', 'Orphan for tests', 'critical', 'waiting_approval', ARRAY['payment-service'], true, 'pending', now() + interval '10 minutes')`,
      [id],
    ),
  );
  return id;
}

export async function removeIncident(id: string): Promise<void> {
  await withDb((db) => db.query('DELETE FROM incidents WHERE incident_id = $1', [id]));
}
