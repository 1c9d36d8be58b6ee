import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../worker/api.ts';
import type { Bindings } from '../../worker/config/env.ts';
import { workflowOf } from '../../worker/incidents/index.ts';
import { reviveStalledIncidents } from '../../worker/incidents/revive.ts';
import { rootLogger } from '../../worker/lib/log.ts';
import { api, detail, waitFor, withDb } from './incidents-helpers.ts';
import { send } from './staged-metric.ts';

// A quarter of real time: Memory Leak's gate stays open 150 s, ample for a restarted run to reach it again.
const slow = { ...env, INCIDENT_TIME_SCALE: '0.25' };

describe('an incident waiting for approval whose run was lost', () => {
  it('is restarted before its deadline, waits at the same gate with the same deadline, and can still be approved', async () => {
    const res = await send(createApi(), '/v1/incidents', 'editor', { method: 'POST', body: { scenario: 'memory_leak' } }, slow);
    expect(res.status).toBe(202);
    const { incident_id } = (await res.json()) as { incident_id: string };
    const waiting = await waitFor(incident_id, (d) => d.status === 'waiting_approval', 30_000);
    const deadline = waiting.approval!.deadline;
    const rows = waiting.timeline.length;

    // The engine loses the run while the incident waits (as when the process running it stops); the incident still shows the gate.
    const workflow = workflowOf(env as unknown as Bindings);
    await (await workflow.get(incident_id)).terminate();
    expect((await (await workflow.get(incident_id)).status()).status).toBe('terminated');

    // A look (past the once-per-30-s throttle) restarts it, though its deadline has not passed.
    const revived = await withDb((db) => reviveStalledIncidents(env as unknown as Bindings, db, rootLogger, Date.now() + 3_600_000));
    expect(revived).toContain(incident_id);
    expect((await (await workflow.get(incident_id)).status()).status).not.toBe('terminated');
    // Give the re-run time to replay to the gate (about 2.5 s of scripted phases at this scale).
    await new Promise((r) => setTimeout(r, 5_000));

    // The re-run stored nothing new on its way back to the gate, and kept the deadline the page shows.
    const again = await detail(incident_id);
    expect(again.status).toBe('waiting_approval');
    expect(again.timeline).toHaveLength(rows);
    expect(again.approval).toEqual({ pending: true, deadline });

    expect((await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' })).status).toBe(202);
    const done = await waitFor(incident_id, (d) => d.status === 'resolved' || d.status === 'failed', 60_000);
    expect(done.status).toBe('resolved');
    expect(done.timeline.find((t) => t.action_id === 'approval')!.status).toBe('approved');
    const counts = await withDb((db) => db.query<{ n: number }>('SELECT count(*)::int AS n FROM incident_messages WHERE incident_id = $1 GROUP BY key HAVING count(*) > 1', [incident_id]));
    expect(counts).toEqual([]);
  });

  it('a restarted run waits only until the deadline already stored, not a fresh timeout', async () => {
    // Service Down's gate at this scale: 15 s.
    const res = await send(createApi(), '/v1/incidents', 'editor', { method: 'POST', body: { scenario: 'service_down' } }, { ...env, INCIDENT_TIME_SCALE: '0.05' });
    expect(res.status).toBe(202);
    const { incident_id } = (await res.json()) as { incident_id: string };
    const waiting = await waitFor(incident_id, (d) => d.status === 'waiting_approval', 30_000);
    const deadline = Date.parse(waiting.approval!.deadline!);
    const workflow = workflowOf(env as unknown as Bindings);
    await (await workflow.get(incident_id)).terminate();
    // Most of the gate's time passes before the run is restarted.
    await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - 6_000)));
    const revived = await withDb((db) => reviveStalledIncidents(env as unknown as Bindings, db, rootLogger, Date.now() + 7_200_000));
    expect(revived).toContain(incident_id);
    const done = await waitFor(incident_id, (d) => d.status === 'failed', 30_000);
    const approval = done.timeline.find((t) => t.action_id === 'approval')!;
    expect(approval.status).toBe('timed_out');
    // It timed out at the stored deadline (with slack for the engine), not 15 s after the restart.
    expect(Date.parse(done.ended_at!)).toBeLessThan(deadline + 4_000);
  });
});
