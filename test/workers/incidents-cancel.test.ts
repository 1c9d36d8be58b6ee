import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import type { IncidentDetail } from '../../worker/incidents/schemas.ts';
import { api, detail, waitFor } from './incidents-helpers.ts';
import { send } from './staged-metric.ts';

// Slow enough (a quarter of real time) that a cancel lands between two remediation steps.
const slow = { ...env, INCIDENT_TIME_SCALE: '0.25' };

async function startSlow(body: unknown): Promise<string> {
  const res = await send(createApi(), '/v1/incidents', 'editor', { method: 'POST', body }, slow);
  const text = await res.text();
  if (res.status !== 202) throw new Error(`start answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { incident_id: string }).incident_id;
}

const status = (d: IncidentDetail, id: string) => d.timeline.find((t) => t.action_id === id)?.status;
const stepsDone = (d: IncidentDetail) => d.timeline.filter((t) => t.kind === 'remediation' && t.status === 'completed').map((t) => t.step!);

/** Cancels once two remediation steps are done and answers the steps that were done at that moment. */
async function cancelMidRemediation(id: string): Promise<{ done: number[]; after: IncidentDetail }> {
  await waitFor(id, (d) => status(d, 'remediation.2') === 'completed', 30_000);
  const res = await api(`/v1/incidents/${id}/cancel`, 'editor', { method: 'POST' });
  expect(res.status).toBe(202);
  const after = await detail(id);
  // Whatever was completed is now rolled back (or failed to be); nothing remains "completed".
  expect(stepsDone(after)).toEqual([]);
  const done = after.timeline.filter((t) => t.kind === 'remediation' && (t.status === 'rolled_back' || t.status === 'rollback_failed')).map((t) => t.step!);
  return { done: done.sort((a, b) => a - b), after };
}

describe('incident cancellation rolls back the remediation done so far', () => {
  it('each completed step is compensated, newest first, on the timeline as a rollback', async () => {
    const id = await startSlow({ scenario: 'api_slowdown' });
    const { done, after } = await cancelMidRemediation(id);
    expect(after.status).toBe('cancelled');
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done).toEqual(Array.from({ length: done.length }, (_, i) => i + 1));
    for (const n of done) {
      expect(status(after, `remediation.${n}`)).toBe('rolled_back');
      const rollback = after.timeline.find((t) => t.action_id === `rollback.${n}`)!;
      expect(rollback).toMatchObject({ kind: 'rollback', status: 'completed', step: n });
      expect(rollback.details).toMatchObject({ reason: 'cancelled' });
    }
    // Newest first: the rollbacks were stored in reverse step order.
    const order = after.timeline.filter((t) => t.kind === 'rollback').map((t) => t.step);
    expect(order).toEqual([...done].reverse());
    // The step under way when it was cancelled is cancelled, not rolled back.
    const next = done.length + 1;
    if (next <= 5) expect(['cancelled', undefined]).toContain(status(after, `remediation.${next}`));
    expect(status(after, 'resolution')).toBe('cancelled');
  });

  it('a compensation that fails on cancel is shown as a failed rollback, and the others still run', async () => {
    const id = await startSlow({ scenario: 'api_slowdown', options: { fail_step: 5, fail_rollback: true } });
    const { done, after } = await cancelMidRemediation(id);
    const newest = done.at(-1)!;
    expect(status(after, `remediation.${newest}`)).toBe('rollback_failed');
    const failed = after.timeline.find((t) => t.action_id === `rollback.${newest}`)!;
    expect(failed.status).toBe('failed');
    expect(String(failed.details.error)).toMatch(/failed/);
    for (const n of done.slice(0, -1)) {
      expect(status(after, `remediation.${n}`)).toBe('rolled_back');
      expect(status(after, `rollback.${n}`)).toBe('completed');
    }
  });
});
