import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { newApp } from '../http/app.ts';
import { reviveStalledIncidents } from '../incidents/revive.ts';
import { jsonBody, jsonContent, problems } from '../http/schemas.ts';
import { cancel, decide, incidentConfig, incidentDetail, incidentMetrics, incidentPage, publicIncident, scenarioSummary, startIncident } from '../incidents/index.ts';
import {
  IncidentDecisionSchema,
  IncidentDetailSchema,
  IncidentListQuerySchema,
  IncidentMetricsSchema,
  IncidentPageSchema,
  IncidentSchema,
  ScenarioListSchema,
  StartIncidentSchema,
} from '../incidents/schemas.ts';

const IdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const startRoute = createRoute({
  method: 'post',
  path: '/v1/incidents',
  tags: ['incidents'],
  summary: 'Start an incident from a scenario, or describe one (editor)',
  description:
    'Stores the incident, injects the scenario’s effects through event ingest and starts its durable workflow: detection → diagnosis → prediction → resolution (five remediation steps, rolled back on failure; an approval gate for scenarios that have one) → communication. Every step is streamed as `agent_action`, the status changes as `incident_status`, the running totals as `performance_metrics`. At most INCIDENT_LIMIT run at once (429 incident_limit).',
  request: jsonBody(StartIncidentSchema),
  responses: { 202: jsonContent(IncidentSchema, 'Started'), ...problems(400, 401, 403, 413, 415, 422, 429, 503) },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/incidents',
  tags: ['incidents'],
  summary: 'Incidents, newest first, filtered, cursor-paginated',
  request: { query: IncidentListQuerySchema },
  responses: { 200: jsonContent(IncidentPageSchema, 'A page of incidents'), ...problems(401, 422, 503) },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/v1/incidents/metrics',
  tags: ['incidents'],
  summary: 'Incidents resolved, total cost savings, average MTTR and success rate (what `performance_metrics` carries)',
  responses: { 200: jsonContent(IncidentMetricsSchema, 'The running figures'), ...problems(401, 503) },
});

const scenariosRoute = createRoute({
  method: 'get',
  path: '/v1/incidents/scenarios',
  tags: ['incidents'],
  summary: 'The scenarios an incident can be started from (config/incident_scenarios.yaml)',
  responses: { 200: jsonContent(ScenarioListSchema, 'Scenarios'), ...problems(401, 500) },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/v1/incidents/{id}',
  tags: ['incidents'],
  summary: 'One incident with its timeline, the KPIs and signals it moved, its approval, cost and notification',
  request: { params: IdParam },
  responses: { 200: jsonContent(IncidentDetailSchema, 'The incident'), ...problems(401, 404, 422, 503) },
});

const decisionRoute = (action: 'approve' | 'reject' | 'cancel', summary: string) =>
  createRoute({
    method: 'post',
    path: `/v1/incidents/{id}/${action}`,
    tags: ['incidents'],
    summary,
    request: { params: IdParam },
    responses: { 202: jsonContent(IncidentDecisionSchema, 'Taken; the workflow goes on from it'), ...problems(401, 403, 404, 409, 422, 503) },
  });

const approveRoute = decisionRoute('approve', 'Approve the pending remediation (editor); 409 incident_state unless one is pending');
const rejectRoute = decisionRoute('reject', 'Reject the pending remediation: the incident is cancelled (editor); 409 incident_state unless one is pending');
const cancelRoute = decisionRoute('cancel', 'Cancel a running incident: its workflow stops, its completed remediation steps are rolled back newest first and its injected effects are cleared (editor); 409 incident_state once it has ended');

/** Reading incidents is when a run that stopped with a dev server is noticed and restarted (revive.ts). */
function reviveInBackground(c: Context<AppEnv>): void {
  const work = reviveStalledIncidents(c.env, c.get('services').postgres, c.get('log')).catch((err: unknown) => c.get('log').warn('stalled incidents not checked', { error: err }));
  c.get('services').defer(work);
}

export const incidentRoutes = newApp()
  .openapi(scenariosRoute, (c) => {
    const { playbook, settings } = incidentConfig(c);
    return c.json({ data: [...playbook.scenarios.values()].map(scenarioSummary), time_scale: settings.INCIDENT_TIME_SCALE }, 200);
  })
  .openapi(metricsRoute, async (c) => c.json(await incidentMetrics(c.get('services').postgres), 200))
  .openapi(startRoute, async (c) => c.json(publicIncident(await startIncident(c, c.req.valid('json'))), 202))
  .openapi(listRoute, async (c) => {
    reviveInBackground(c);
    return c.json(await incidentPage(c, c.req.valid('query'), new URL(c.req.url)), 200);
  })
  .openapi(detailRoute, async (c) => {
    reviveInBackground(c);
    return c.json(await incidentDetail(c, c.req.valid('param').id), 200);
  })
  .openapi(approveRoute, async (c) => {
    const incident = await decide(c, c.req.valid('param').id, 'approved');
    return c.json({ incident_id: incident.incident_id, status: incident.status, decision: 'approved' as const }, 202);
  })
  .openapi(rejectRoute, async (c) => {
    const incident = await decide(c, c.req.valid('param').id, 'rejected');
    return c.json({ incident_id: incident.incident_id, status: incident.status, decision: 'rejected' as const }, 202);
  })
  .openapi(cancelRoute, async (c) => {
    const incident = await cancel(c, c.req.valid('param').id);
    return c.json({ incident_id: incident.incident_id, status: incident.status, decision: 'cancelled' as const }, 202);
  });
