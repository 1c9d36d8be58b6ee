import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import routingYaml from '../../config/metric_routing.yaml?raw';
import { createApi } from '../../worker/api.ts';
import { authHeaders, deniedClaimsMetric, json } from './helpers.ts';

export type Api = ReturnType<typeof createApi>;

/** A request to `api` as `role`, with the test's bindings unless others are given; waits for its deferred work. */
export async function send(
  api: Api,
  path: string,
  role: 'admin' | 'editor' | 'viewer' | null,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  bindings: object = env,
): Promise<Response> {
  const headers: Record<string, string> = { ...(role ? await authHeaders(role) : {}), ...init.headers };
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const body = typeof init.body === 'string' ? init.body : init.body !== undefined ? JSON.stringify(init.body) : undefined;
  const request = new Request(new URL(path, 'http://cc.test'), { method: init.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) });
  const ctx = createExecutionContext();
  const res = await api.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A window no other test asks about, so the answer comes from the source, not a cache. */
export function freshWindow(days = 7) {
  const end = new Date(Date.now() - Math.floor(Math.random() * 1e5) * 60_000);
  return { start: new Date(end.getTime() - days * 86_400_000).toISOString(), end: end.toISOString() };
}

export interface StagedMetric {
  /** The worker as deployed with a routing line for this metric. */
  api: Api;
  name: string;
  /** A widget of this metric owned by the local editor, over all the seeded data; its id. */
  widget(visualization: string): Promise<string>;
}

/**
 * A catalog metric that exists only for the test: a Postgres query routed by a staged routing line
 * (`route` adds keys such as `timeout_ms: 100`). It and its widgets are removed afterwards.
 */
export async function withPostgresMetric(query: string, route: string, use: (metric: StagedMetric) => Promise<void>): Promise<void> {
  const name = `staged_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const api = createApi({ routingText: `${routingYaml.trimEnd()}\n  ${name}: { source: postgres, cache_seconds: 60${route ? `, ${route}` : ''} }\n` });
  await json(await send(api, '/v1/metrics', 'admin', { method: 'POST', body: deniedClaimsMetric(name, { postgres: query }) }), 201);
  const widgets: string[] = [];
  try {
    await use({
      api,
      name,
      async widget(visualization) {
        // The metric is new, so no cache holds an answer for it whatever the window.
        const body = { title: name, metric: name, visualization, time_window: { preset: '90d' } };
        const { id } = await json<{ id: string }>(await send(api, '/v1/widgets', 'editor', { method: 'POST', body }), 201);
        widgets.push(id);
        return id;
      },
    });
  } finally {
    for (const id of widgets) await send(api, `/v1/widgets/${id}`, 'editor', { method: 'DELETE' });
    await send(api, `/v1/metrics/${name}`, 'admin', { method: 'DELETE' });
  }
}

/** Plans (so the catalog accepts it) and fails only when it runs: division by zero. */
export const FAILS_WHEN_RUN = 'SELECT COUNT(*) / (COUNT(*) - COUNT(*)) AS value FROM claims WHERE opened_at >= :start AND opened_at < :end';

/** Plans, and runs far longer than any route deadline: claims joined with itself twice. */
export const RUNS_FOREVER =
  'SELECT COUNT(*) AS value FROM claims a CROSS JOIN claims b CROSS JOIN claims c WHERE a.opened_at >= :start AND a.opened_at < :end';
