import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { ERROR_CODES, ERROR_STATUS } from '../../worker/http/errors.ts';
import type { ErrorCode } from '../../worker/http/errors.ts';
import { expectProblem } from './helpers.ts';
import { FAILS_WHEN_RUN, RUNS_FOREVER, send, withPostgresMetric } from './staged-metric.ts';
import { orphanWaitingIncident, removeIncident } from './incidents-helpers.ts';

// Every code in the closed list is reachable: each is provoked here through a request to the API
// (with a broken setting or a dead dependency address where that is the only way) and must answer
// its status as problem+json. A code nothing raises fails this file by having no case.

const api = createApi();
const dead = 'http://127.0.0.1:9';
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const widgetBody = { title: 'Codes', metric: 'open_alerts', visualization: 'kpi', time_window: { preset: '24h' } };

/** A staged Postgres metric's widget data, under the given query and routing keys. */
const tileOf = (query: string, route: string) => async (check: (res: Response) => Promise<unknown>) =>
  withPostgresMetric(query, route, async (metric) => {
    await check(await send(metric.api, `/v1/widgets/${await metric.widget('kpi')}/data`, 'editor', { method: 'POST' }));
  });

const cases: Record<ErrorCode, (check: (res: Response) => Promise<unknown>) => Promise<unknown>> = {
  bad_request: async (check) => check(await send(api, '/v1/metrics/%FF', 'viewer')),
  malformed_json: async (check) => check(await send(api, '/v1/widgets', 'editor', { method: 'POST', body: '{"title":' })),
  validation_failed: async (check) => check(await send(api, '/v1/widgets', 'editor', { method: 'POST', body: { title: '' } })),
  unauthenticated: async (check) => check(await send(api, '/v1/metrics', null)),
  forbidden: async (check) => check(await send(api, '/v1/widgets', 'viewer', { method: 'POST', body: widgetBody })),
  not_found: async (check) => check(await send(api, '/v1/no-such-thing', 'viewer')),
  method_not_allowed: async (check) => check(await send(api, '/v1/metrics', 'admin', { method: 'DELETE' })),
  // open_alerts has no lakehouse query to compare with.
  conflict: async (check) => check(await send(api, '/v1/metrics/open_alerts/compare?window=24h', 'admin')),
  payload_too_large: async (check) =>
    check(await send(api, '/v1/widgets', 'editor', { method: 'POST', body: { ...widgetBody, title: 'x'.repeat(2_000) } }, { ...env, MAX_BODY_BYTES: '1024' })),
  unsupported_media_type: async (check) =>
    check(await send(api, '/v1/widgets', 'editor', { method: 'POST', body: 'title=x', headers: { 'content-type': 'text/plain' } })),
  upgrade_required: async (check) => check(await send(api, '/v1/dashboard/stream', 'viewer')),
  rate_limited: async (check) => {
    // One attempt per email allowed here, from an address no other test uses.
    const bindings = { ...env, SIGNIN_LIMIT_PER_EMAIL: '1' };
    const signIn = () =>
      send(api, '/v1/auth/sign-in', null, {
        method: 'POST',
        body: { email: `codes-${id}@command-center.local`, password: 'wrong' },
        headers: { 'cf-connecting-ip': ip },
      }, bindings);
    const id = unique();
    const ip = `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
    await expectProblem(await signIn(), 401, 'unauthenticated');
    await check(await signIn());
  },
  internal_error: tileOf(FAILS_WHEN_RUN, ''),
  config_invalid: async (check) => check(await send(api, '/v1/metrics', null, {}, { ...env, DATABASE_URL: 'not a url' })),
  postgres_unavailable: async (check) =>
    check(await send(api, '/readyz', null, {}, { ...env, NEON_WS_PROXY: '127.0.0.1:9/v2', NEON_HTTP_ENDPOINT: `${dead}/sql` })),
  redis_unavailable: async (check) =>
    check(await send(api, '/v1/auth/sign-in', null, { method: 'POST', body: { email: `codes-${unique()}@command-center.local`, password: 'x' } }, { ...env, UPSTASH_REDIS_REST_URL: dead })),
  databricks_unavailable: async (check) => check(await send(api, '/v1/databricks/health', 'viewer', {}, { ...env, DATABRICKS_HOST: dead })),
  llm_unavailable: async (check) =>
    check(await send(api, '/v1/widgets/sql/generate', 'editor', { method: 'POST', body: { metric: 'claim_volume', dry_run: true } }, { ...env, BEDROCK_ENDPOINT: dead })),
  routing_invalid: async (check) => check(await send(createApi({ routingText: 'version: 1\nmetrics: nope\n' }), '/v1/dashboard/state', 'viewer')),
  // The server cancels the statement at the route's 200 ms deadline (SQLSTATE 57014).
  dependency_timeout: tileOf(RUNS_FOREVER, 'timeout_ms: 200'),
  // A limit of 0 turns starting incidents off: every start is over it.
  incident_limit: async (check) =>
    check(await send(api, '/v1/incidents', 'editor', { method: 'POST', body: { scenario: 'database_cascade' } }, { ...env, INCIDENT_LIMIT: '0' })),
  incident_state: async (check) => {
    const id = await orphanWaitingIncident();
    try {
      // Cancelling twice: the second finds it ended.
      expect((await send(api, `/v1/incidents/${id}/cancel`, 'editor', { method: 'POST' })).status).toBe(202);
      await check(await send(api, `/v1/incidents/${id}/cancel`, 'editor', { method: 'POST' }));
    } finally {
      await removeIncident(id);
    }
  },
  // An incident whose workflow instance does not exist: the decision cannot reach it.
  workflow_unavailable: async (check) => {
    const id = await orphanWaitingIncident();
    try {
      await check(await send(api, `/v1/incidents/${id}/approve`, 'editor', { method: 'POST' }));
    } finally {
      await removeIncident(id);
    }
  },
};

describe('the closed list of problem codes', () => {
  it('has a case for every code, and no case for a code it lacks', () => {
    expect(Object.keys(cases).sort()).toEqual([...ERROR_CODES].sort());
  });

  for (const code of ERROR_CODES) {
    it(`${code} is reachable and answers ${ERROR_STATUS[code]} as problem+json`, async () => {
      let checked = false;
      await cases[code](async (res) => {
        await expectProblem(res, ERROR_STATUS[code], code);
        checked = true;
      });
      expect(checked).toBe(true);
    });
  }
});
