import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import { authHeaders, expectProblem, json } from './helpers.ts';

// This file's own dashboard, configured for its app.
const api = createApi();
const call = (path: string, init?: RequestInit) => api.request(path, init, { ...env, DASHBOARDS: 'default,idempotency' });

const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
// Alerts are opened and resolved again, so the shared database keeps no open alert from here.
const opened = (alertId: string, title = 'Idempotency check') => ({
  event_id: uid('evt'),
  type: 'alert.opened',
  occurred_at: new Date().toISOString(),
  data: { alert_id: alertId, severity: 'info', title },
});
const resolved = (alertId: string) => ({ event_id: uid('evt'), type: 'alert.resolved', occurred_at: new Date().toISOString(), data: { alert_id: alertId } });

async function ingest(body: unknown) {
  return call('/v1/events?dashboard=idempotency', {
    method: 'POST',
    headers: { ...(await authHeaders('editor')), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
type Results = { results: Array<{ event_id: string; status: string }> };

describe('event ids are idempotency keys', () => {
  it('answers duplicate for the same body, whatever the key order, and 409 for another body under the same id', async () => {
    const alertId = uid('A');
    const first = opened(alertId);
    expect((await json<Results>(await ingest(first))).results[0]?.status).toBe('applied');
    const reordered = { ...first, data: { title: first.data.title, severity: first.data.severity, alert_id: first.data.alert_id } };
    expect((await json<Results>(await ingest(reordered))).results[0]?.status).toBe('duplicate');

    const other = { ...first, data: { ...first.data, title: 'Another alert' } };
    const problem = await expectProblem(await ingest(other), 409, 'conflict');
    expect(problem.detail).toContain(first.event_id);

    // A batch holding a conflict applies nothing, so the new event in it is still new afterwards.
    const fresh = resolved(alertId);
    await expectProblem(await ingest({ events: [fresh, other] }), 409, 'conflict');
    expect((await json<Results>(await ingest(fresh))).results[0]?.status).toBe('applied');
  });

  it('applies one of 20 concurrent retries of an event and calls the rest duplicates', async () => {
    const alertId = uid('A');
    const event = opened(alertId);
    const answers = await Promise.all(Array.from({ length: 20 }, () => ingest(event)));
    const statuses = await Promise.all(answers.map(async (res) => (await json<Results>(res)).results[0]?.status));
    expect(statuses.filter((s) => s === 'applied')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(19);
    expect((await json<Results>(await ingest(resolved(alertId)))).results[0]?.status).toBe('applied');
  });
});
