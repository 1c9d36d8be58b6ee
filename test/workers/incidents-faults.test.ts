import { env, introspectWorkflowInstance } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Bindings } from '../../worker/config/env.ts';
import { workflowOf } from '../../worker/incidents/index.ts';
import { api, detail, startIncident, waitFor, withDb } from './incidents-helpers.ts';
import { listen } from './helpers.ts';

const ended = (d: { status: string }) => ['resolved', 'failed', 'cancelled'].includes(d.status);
const steps = (d: { timeline: Array<{ action_id: string; status: string }> }) => d.timeline.map((t) => `${t.action_id}:${t.status}`);

async function messageCounts(id: string) {
  return withDb((db) =>
    db.query<{ key: string; n: number }>('SELECT key, count(*)::int AS n FROM incident_messages WHERE incident_id = $1 GROUP BY key ORDER BY key', [id]),
  );
}

describe('incident workflow: faults', () => {
  it('a remediation step that still fails after its retries rolls back the completed ones, newest first', async () => {
    const { incident_id } = await startIncident({ scenario: 'api_slowdown', options: { fail_step: 3 } });
    const d = await waitFor(incident_id, ended);
    expect(d.status).toBe('failed');
    expect(steps(d)).toEqual([
      'detection:completed',
      'diagnosis:completed',
      'prediction:completed',
      'resolution:failed',
      'remediation.1:rolled_back',
      'remediation.2:rolled_back',
      'remediation.3:failed',
      'rollback.2:completed',
      'rollback.1:completed',
      'communication:completed',
    ]);
    const failed = d.timeline.find((t) => t.action_id === 'remediation.3')!;
    expect(failed.attempt).toBe(3);
    expect(failed.details.error).toMatch(/did not take effect/);
    expect(d.timeline.find((t) => t.action_id === 'resolution')!.details).toMatchObject({ failed_step: 3, rolled_back: [2, 1], rollback_failed: [] });
    expect(d.cost.savings).toBeNull();
    // The retries were published as they happened.
    const keys = (await messageCounts(incident_id)).map((m) => m.key);
    expect(keys).toContain(`${incident_id}:remediation.3:retrying:2`);
    expect(keys).toContain(`${incident_id}:remediation.3:retrying:3`);
  });

  it('a compensation that fails too is shown as a failed rollback, and the others still run', async () => {
    // Memory Leak has an approval gate: remediation starts once an editor approves.
    const { incident_id } = await startIncident({ scenario: 'memory_leak', options: { fail_step: 4, fail_rollback: true } });
    await waitFor(incident_id, (x) => x.status === 'waiting_approval');
    expect((await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' })).status).toBe(202);
    const d = await waitFor(incident_id, ended);
    expect(d.status).toBe('failed');
    const state = Object.fromEntries(d.timeline.map((t) => [t.action_id, t.status]));
    expect(state).toMatchObject({
      'remediation.1': 'rolled_back',
      'remediation.2': 'rolled_back',
      'remediation.3': 'rollback_failed',
      'remediation.4': 'failed',
      'rollback.3': 'failed',
      'rollback.2': 'completed',
      'rollback.1': 'completed',
      resolution: 'failed',
    });
    expect(d.timeline.find((t) => t.action_id === 'resolution')!.details).toMatchObject({ failed_step: 4, rolled_back: [2, 1], rollback_failed: [3] });
  });

  it('cancelling stops the run, cancels what was open and clears the injected alerts', async () => {
    const { incident_id } = await startIncident({ scenario: 'service_down' });
    await waitFor(incident_id, (x) => x.status === 'waiting_approval');
    const res = await api(`/v1/incidents/${incident_id}/cancel`, 'editor', { method: 'POST' });
    expect(res.status).toBe(202);
    const d = await detail(incident_id);
    expect(d.status).toBe('cancelled');
    expect(d.timeline.find((t) => t.action_id === 'approval')!.status).toBe('cancelled');
    expect(d.timeline.find((t) => t.action_id === 'resolution')!.status).toBe('cancelled');
    const instance = await workflowOf(env as unknown as Bindings).get(incident_id);
    expect((await instance.status()).status).toBe('terminated');
    const open = await withDb((db) => db.query<{ n: number }>(`SELECT count(*)::int AS n FROM alerts WHERE alert_id LIKE $1 AND resolved_at IS NULL`, [`inc-${incident_id}-%`]));
    expect(open[0]!.n).toBe(0);
    // Cancelling again, or approving now, is refused.
    expect((await api(`/v1/incidents/${incident_id}/cancel`, 'editor', { method: 'POST' })).status).toBe(409);
    expect((await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' })).status).toBe(409);
  });

  it('a second run of the same incident (a restart replaying it) adds no row and no message', async () => {
    const board = await listen('default');
    const { incident_id } = await startIncident({ scenario: 'database_cascade' });
    // Another instance running the same incident from the start, side by side with the first.
    const rerunId = `${incident_id}-rerun`;
    await using rerun = await introspectWorkflowInstance(workflowOf(env as unknown as Bindings), rerunId);
    await workflowOf(env as unknown as Bindings).create({ id: rerunId, params: { incident_id } });
    const d = await waitFor(incident_id, ended);
    await rerun.waitForStatus('complete');
    expect(d.status).toBe('resolved');
    expect(d.timeline).toHaveLength(10);
    const counts = await messageCounts(incident_id);
    expect(counts.every((m) => m.n === 1)).toBe(true);
    expect(counts).toHaveLength(d.timeline.length * 2 + 3);
    // The hub got each exactly once, in the order they were stored.
    const mine = () => board.messages.filter((m) => m.data?.incident_id === incident_id || (m.type === 'performance_metrics' && false));
    await board.until(() => mine().some((m) => m.type === 'incident_status' && m.data?.status === 'resolved'), 5_000);
    const seen = mine().map((m) => (m.type === 'agent_action' ? `${(m.data!.action as { action_id: string }).action_id}:${(m.data!.action as { status: string }).status}` : `status:${m.data!.status}`));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen[0]).toBe('status:active');
    expect(seen.at(-1)).toBe('status:resolved');
    expect(seen.indexOf('detection:completed')).toBeLessThan(seen.indexOf('diagnosis:in_progress'));
  });
});
