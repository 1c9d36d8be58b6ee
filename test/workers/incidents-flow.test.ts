import { describe, expect, it } from 'vitest';
import { api, detail, startIncident, waitFor, webhookDeliveries, withDb } from './incidents-helpers.ts';

const ended = (d: { status: string }) => ['resolved', 'failed', 'cancelled'].includes(d.status);

describe('incident workflow: success', () => {
  it('runs Database Cascade unattended from detection to communication, stores every step once, and resolves', async () => {
    const before = (await (await api('/v1/incidents/metrics', 'viewer')).json()) as { incidents_resolved: number; total_cost_savings: number };
    const started = await startIncident({ scenario: 'database_cascade' });
    expect(started.status).toBe('active');
    const d = await waitFor(started.incident_id, ended);
    expect(d.status).toBe('resolved');
    const ids = d.timeline.map((t) => `${t.action_id}:${t.status}`);
    expect(ids).toEqual([
      'detection:completed',
      'diagnosis:completed',
      'prediction:completed',
      'resolution:completed',
      'remediation.1:completed',
      'remediation.2:completed',
      'remediation.3:completed',
      'remediation.4:completed',
      'remediation.5:completed',
      'communication:completed',
    ]);
    const detection = d.timeline[0]!;
    expect(detection.confidence).toBeGreaterThan(0.5);
    expect(detection.details.anomalies_detected).toBeGreaterThan(0);
    const diagnosis = d.timeline[1]!;
    expect(['api-gateway', 'user-service', 'order-service']).toContain(diagnosis.details.service);
    expect(diagnosis.details.region).toMatch(/^NA-(East|West)$/);
    expect(d.timeline[2]!.details.cascade_risk).toBeGreaterThan(0);
    expect(d.cost.savings).toBeGreaterThan(0);
    expect(d.cost.formula).toContain('manual_mttr_minutes');
    expect(d.notification).toMatchObject({ configured: true, status: 'delivered' });
    expect((await webhookDeliveries(started.incident_id)).length).toBe(1);
    const kpi = d.linked.kpis.find((k) => k.metric === 'open_alerts')!;
    expect(kpi.worst).toBeGreaterThan(kpi.before!);
    const after = (await (await api('/v1/incidents/metrics', 'viewer')).json()) as { incidents_resolved: number; total_cost_savings: number };
    expect(after.incidents_resolved).toBeGreaterThanOrEqual(before.incidents_resolved + 1);
    // One message per transition, all published.
    const messages = await withDb((db) =>
      db.query<{ n: number; unpublished: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE published_seq IS NULL)::int AS unpublished FROM incident_messages WHERE incident_id = $1`,
        [started.incident_id],
      ),
    );
    expect(messages[0]!.unpublished).toBe(0);
    expect(messages[0]!.n).toBe(d.timeline.length * 2 + 3);
    void detail;
  });
});
