import { describe, expect, it } from 'vitest';
import { IncidentPageSchema, ScenarioListSchema } from '../../worker/incidents/schemas.ts';
import { PerformanceMetricsSchema } from '../../worker/incidents/messages.ts';
import { bundledDictionary } from '../../worker/config/bundled.ts';
import { BUNDLED_SCENARIOS_YAML, loadPlaybook } from '../../worker/incidents/playbook.ts';
import { checkPlaybook as checkWith } from '../../worker/incidents/scenarios.ts';
import { api, startIncident, waitFor } from './incidents-helpers.ts';
import { expectProblem, listen } from './helpers.ts';

const checkPlaybook = (text: string) => checkWith(text, bundledDictionary());
/** The line of the first occurrence of `needle` in the bundled file (1-based). */
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

describe('incidents API', () => {
  it('the scenarios file is valid, and the scenarios route lists the buttons', async () => {
    expect(checkPlaybook(BUNDLED_SCENARIOS_YAML)).toMatchObject({ ok: true });
    const res = await api('/v1/incidents/scenarios', 'viewer');
    const body = ScenarioListSchema.parse(await res.json());
    const ids = body.data.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['database_cascade', 'api_slowdown', 'service_down', 'memory_leak']));
    expect(body.data.find((s) => s.id === 'database_cascade')!.approval.required).toBe(false);
    expect(body.data.some((s) => s.approval.required)).toBe(true);
    expect(body.data.every((s) => s.remediation_steps.length === 5)).toBe(true);
  });

  it('refuses a bad scenarios file line by line', () => {
    const broken = BUNDLED_SCENARIOS_YAML.replace('regions: [EMEA]', 'regions: [Atlantis]').replace('approval: { required: false }\n    cost: { cost_per_minute: 2240', 'approval: { required: true, timeout_seconds: 60 }\n    cost: { cost_per_minute: 2240');
    const check = checkPlaybook(broken);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.problems.join('\n')).toMatch(/region Atlantis/);
      expect(check.problems.join('\n')).toMatch(/database_cascade runs unattended/);
    }
    expect(checkPlaybook('version: 1\nscenarios: [').ok).toBe(false);
  });

  it('names the line and column of each problem, and refuses to load a bad file at all', () => {
    const regionLine = lineOf(BUNDLED_SCENARIOS_YAML, 'regions: [EMEA]');
    const bad = checkPlaybook(BUNDLED_SCENARIOS_YAML.replace('regions: [EMEA]', 'regions: [Atlantis]'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems[0]).toMatch(new RegExp(`^config/incident_scenarios\\.yaml:${regionLine}:\\d+ scenarios\\.\\w+\\.affected\\.regions\\.0: \\w+: region Atlantis`));
    // A schema problem points at the value's own line.
    const stepsLine = lineOf(BUNDLED_SCENARIOS_YAML, 'seconds: 1.2 }');
    const schema = checkPlaybook(BUNDLED_SCENARIOS_YAML.replace('seconds: 1.2 }', 'seconds: -1 }'));
    expect(schema.ok).toBe(false);
    if (!schema.ok) expect(schema.problems).toEqual([expect.stringMatching(new RegExp(`^config/incident_scenarios\\.yaml:${stepsLine}:\\d+ scenarios\\.database_cascade\\.remediation\\.0\\.seconds: `))]);
    // Broken YAML names where the parser stopped.
    const yaml = checkPlaybook('version: 1\nscenarios: [\n');
    expect(yaml.ok).toBe(false);
    if (!yaml.ok) expect(yaml.problems[0]).toMatch(/^config\/incident_scenarios\.yaml:\d+:\d+ is not valid YAML/);
    // What the worker runs when it loads: a bad file throws with every problem, so the worker never starts with it.
    expect(() => loadPlaybook(BUNDLED_SCENARIOS_YAML.replace('regions: [EMEA]', 'regions: [Atlantis]'))).toThrow(/incident_scenarios\.yaml is invalid:\n.*region Atlantis/);
    expect(loadPlaybook(BUNDLED_SCENARIOS_YAML).scenarios.size).toBeGreaterThanOrEqual(4);
  });

  it('refuses bad input, viewers and anonymous callers', async () => {
    await expectProblem(await api('/v1/incidents', 'editor', { method: 'POST', body: { scenario: 'volcano' } }), 422, 'validation_failed');
    await expectProblem(await api('/v1/incidents', 'editor', { method: 'POST', body: { scenario: 'database_cascade', extra: 1 } }), 422, 'validation_failed');
    await expectProblem(await api('/v1/incidents', 'editor', { method: 'POST', body: '{"scenario":' }), 400, 'malformed_json');
    await expectProblem(await api('/v1/incidents', 'editor', { method: 'POST', body: { title: 'x', severity: 'critical', affected_services: [] } }), 422, 'validation_failed');
    await expectProblem(await api('/v1/incidents', 'editor', { method: 'POST', body: { scenario: 'database_cascade', options: { fail_step: 9 } } }), 422, 'validation_failed');
    await expectProblem(await api('/v1/incidents', 'editor', { method: 'POST', body: { scenario: 'database_cascade', options: { fail_step: 1, fail_rollback: true } } }), 422, 'validation_failed');
    await expectProblem(await api('/v1/incidents', 'viewer', { method: 'POST', body: { scenario: 'database_cascade' } }), 403, 'forbidden');
    await expectProblem(await api('/v1/incidents', null, { method: 'POST', body: { scenario: 'database_cascade' } }), 401, 'unauthenticated');
    await expectProblem(await api('/v1/incidents/not-a-uuid', 'viewer'), 422, 'validation_failed');
    await expectProblem(await api(`/v1/incidents/${crypto.randomUUID()}`, 'viewer'), 404, 'not_found');
    await expectProblem(await api(`/v1/incidents/${crypto.randomUUID()}/approve`, 'editor', { method: 'POST' }), 404, 'not_found');
    await expectProblem(await api('/v1/incidents?status=sleeping', 'viewer'), 422, 'validation_failed');
    await expectProblem(await api('/v1/incidents?page[after]=forged.cursor', 'viewer'), 422, 'validation_failed');
  });

  it('a described incident runs the generic playbook under its own title, severity and services', async () => {
    const { incident_id } = await startIncident({ title: 'Checkout errors in the app', severity: 'high', affected_services: ['checkout-api'] });
    const d = await waitFor(incident_id, (x) => x.status === 'resolved');
    expect(d).toMatchObject({ scenario: null, title: 'Checkout errors in the app', severity: 'high', affected_services: ['checkout-api'] });
    expect(d.timeline.find((t) => t.action_id === 'diagnosis')!.details.service).toBe('checkout-api');
  });

  it('lists with filters and a cursor, newest first', async () => {
    const a = await startIncident({ scenario: 'api_slowdown' });
    const b = await startIncident({ scenario: 'api_slowdown' });
    await waitFor(a.incident_id, (x) => x.status === 'resolved');
    await waitFor(b.incident_id, (x) => x.status === 'resolved');
    const first = IncidentPageSchema.parse(await (await api('/v1/incidents?scenario=api_slowdown&page[size]=1', 'viewer')).json());
    expect(first.data).toHaveLength(1);
    expect(first.meta.has_more).toBe(true);
    const second = IncidentPageSchema.parse(await (await api(first.links.next!, 'viewer')).json());
    expect(second.data[0]!.incident_id).not.toBe(first.data[0]!.incident_id);
    expect(Date.parse(second.data[0]!.created_at)).toBeLessThanOrEqual(Date.parse(first.data[0]!.created_at));
    const all = IncidentPageSchema.parse(await (await api('/v1/incidents?scenario=api_slowdown&status=resolved&page[size]=100', 'viewer')).json());
    expect(all.data.map((i) => i.incident_id)).toEqual(expect.arrayContaining([a.incident_id, b.incident_id]));
    expect(all.data.every((i) => i.scenario === 'api_slowdown' && i.status === 'resolved')).toBe(true);
    // A cursor is bound to its filters.
    await expectProblem(await api(`/v1/incidents?scenario=memory_leak&page[after]=${new URL(first.links.next!, 'http://x').searchParams.get('page[after]')}`, 'viewer'), 422, 'validation_failed');
  });

  it('the metrics route and every new socket carry the same running figures', async () => {
    const { incident_id } = await startIncident({ scenario: 'database_cascade' });
    await waitFor(incident_id, (x) => x.status === 'resolved');
    const metrics = PerformanceMetricsSchema.parse(await (await api('/v1/incidents/metrics', 'viewer')).json());
    expect(metrics.incidents_resolved).toBeGreaterThan(0);
    expect(metrics.success_rate).toBeGreaterThan(0);
    const board = await listen('default');
    await board.until(() => board.messages.some((m) => m.type === 'hello'));
    const hello = board.messages.find((m) => m.type === 'hello') as unknown as { retained?: Array<{ type: string; data: { metrics: unknown } }> };
    const retained = hello.retained?.find((m) => m.type === 'performance_metrics');
    expect(retained).toBeDefined();
    const sent = PerformanceMetricsSchema.parse(retained!.data.metrics);
    // Other incidents may end in between: the socket's figures are at least as far along as the route's were.
    expect(sent.incidents_resolved).toBeGreaterThanOrEqual(metrics.incidents_resolved);
  });

  it('different data gives different findings: confidence, diagnosis and risk follow what each scenario injected', async () => {
    const cascade = await startIncident({ scenario: 'database_cascade' });
    const a = await waitFor(cascade.incident_id, (x) => x.status === 'resolved');
    // Memory Leak's findings come before its approval gate; it is cancelled there.
    const leak = await startIncident({ scenario: 'memory_leak' });
    const b = await waitFor(leak.incident_id, (x) => x.status === 'waiting_approval');
    expect((await api(`/v1/incidents/${leak.incident_id}/cancel`, 'editor', { method: 'POST' })).status).toBe(202);
    const phase = (d: typeof a, id: string) => d.timeline.find((t) => t.action_id === id)!;
    // Critical alerts name the cascade's services; the leak has a warning and an info alert.
    expect(phase(a, 'detection').confidence!).toBeGreaterThan(phase(b, 'detection').confidence!);
    expect(phase(a, 'detection').details.pattern_match).toMatch(/user-service|api-gateway|order-service/);
    expect(phase(b, 'detection').details.pattern_match).toMatch(/device-diagnostics heap/);
    expect(phase(b, 'diagnosis').details.service).toBe('device-diagnostics');
    expect(phase(b, 'diagnosis').details.root_cause).toMatch(/device-diagnostics/);
    expect(phase(a, 'prediction').details.cascade_risk).not.toBe(phase(b, 'prediction').details.cascade_risk);
  });
});
