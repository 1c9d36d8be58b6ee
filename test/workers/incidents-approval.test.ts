import { describe, expect, it } from 'vitest';
import { api, detail, startIncident, waitFor } from './incidents-helpers.ts';
import { expectProblem } from './helpers.ts';

const ended = (d: { status: string }) => ['resolved', 'failed', 'cancelled'].includes(d.status);

describe('incident workflow: the approval gate', () => {
  it('waits for an editor, shows the pending approval, and goes on once approved; a second approval is 409', async () => {
    const { incident_id } = await startIncident({ scenario: 'service_down' });
    const waiting = await waitFor(incident_id, (d) => d.status === 'waiting_approval');
    expect(waiting.approval).toMatchObject({ pending: true });
    expect(Date.parse(waiting.approval!.deadline!)).toBeGreaterThan(Date.now());
    // No remediation step before the decision.
    expect(waiting.timeline.some((t) => t.kind === 'remediation')).toBe(false);
    expect(waiting.timeline.find((t) => t.action_id === 'approval')!.status).toBe('waiting_approval');
    await expectProblem(await api(`/v1/incidents/${incident_id}/approve`, 'viewer', { method: 'POST' }), 403, 'forbidden');

    const res = await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' });
    expect(res.status).toBe(202);
    await expectProblem(await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' }), 409, 'incident_state');
    const d = await waitFor(incident_id, ended);
    expect(d.status).toBe('resolved');
    expect(d.approval).toEqual({ pending: false, deadline: waiting.approval!.deadline });
    const approval = d.timeline.find((t) => t.action_id === 'approval')!;
    expect(approval.status).toBe('approved');
    expect(typeof approval.details.decided_by).toBe('string');
    expect(d.timeline.filter((t) => t.kind === 'remediation').map((t) => t.status)).toEqual(Array(5).fill('completed'));
    // Approving a finished incident is refused as well.
    await expectProblem(await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' }), 409, 'incident_state');
  });

  it('a rejection cancels the incident before any remediation', async () => {
    const { incident_id } = await startIncident({ scenario: 'service_down' });
    await waitFor(incident_id, (d) => d.status === 'waiting_approval');
    expect((await api(`/v1/incidents/${incident_id}/reject`, 'editor', { method: 'POST' })).status).toBe(202);
    const d = await waitFor(incident_id, ended);
    expect(d.status).toBe('cancelled');
    expect(d.timeline.find((t) => t.action_id === 'approval')!.status).toBe('rejected');
    expect(d.timeline.find((t) => t.action_id === 'resolution')!.status).toBe('cancelled');
    expect(d.timeline.some((t) => t.kind === 'remediation')).toBe(false);
    await expectProblem(await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' }), 409, 'incident_state');
  });

  it('without a decision before the deadline the approval times out and the incident fails', async () => {
    // service_down waits 300 s at scale 1: 3 s in tests.
    const { incident_id } = await startIncident({ scenario: 'service_down' });
    await waitFor(incident_id, (d) => d.status === 'waiting_approval');
    const d = await waitFor(incident_id, ended, 15_000);
    expect(d.status).toBe('failed');
    expect(d.timeline.find((t) => t.action_id === 'approval')!.status).toBe('timed_out');
    expect(d.approval).toEqual({ pending: false, deadline: expect.any(String) });
    await expectProblem(await api(`/v1/incidents/${incident_id}/approve`, 'editor', { method: 'POST' }), 409, 'incident_state');
    void detail;
  });
});
