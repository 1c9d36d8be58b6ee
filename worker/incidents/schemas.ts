/**
 * The incidents API contract: request and response bodies of /v1/incidents*, and (re-exported
 * from messages.ts, zod/mini) the data of the hub's `agent_action`, `incident_status` and
 * `performance_metrics` frames. The site parses frames with messages.ts directly, so its
 * dashboard bundle does not carry the full zod build.
 */
import { z } from '@hono/zod-openapi';
import { ACTION_KINDS, ACTION_STATUSES, AGENT_TYPES, INCIDENT_STATUSES, SEVERITIES } from './messages.ts';

export {
  ACTION_KINDS,
  ACTION_STATUSES,
  AGENT_TYPES,
  FINAL_INCIDENT_STATUSES,
  INCIDENT_STATUSES,
  SEVERITIES,
  AgentActionSchema,
  AgentActionMessageSchema,
  IncidentStatusMessageSchema,
  PerformanceMetricsMessageSchema,
  PerformanceMetricsSchema,
} from './messages.ts';
export type {
  ActionKind,
  ActionStatus,
  AgentAction,
  AgentActionMessage,
  AgentType,
  IncidentStatus,
  IncidentStatusMessage,
  PerformanceMetrics,
  PerformanceMetricsMessage,
  Severity,
} from './messages.ts';

export const ScenarioIdSchema = z.string().regex(/^[a-z][a-z0-9_]{1,40}$/, 'a scenario id: snake_case');
const ServiceName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a service name: lowercase letters, digits and dashes');

/**
 * Test and demo levers. `fail_step` makes that remediation step (1-5) fail on every attempt, so
 * the completed ones are rolled back; with `fail_rollback` the first compensation fails too.
 */
export const IncidentOptionsSchema = z
  .strictObject({
    fail_step: z.number().int().min(1).max(5).optional(),
    fail_rollback: z.boolean().optional(),
  })
  .refine((o) => !o.fail_rollback || o.fail_step !== undefined, { message: 'fail_rollback needs fail_step (a rollback follows a failed step)', path: ['fail_rollback'] })
  .openapi('IncidentOptions');
export type IncidentOptions = z.infer<typeof IncidentOptionsSchema>;

/** Start from a configured scenario, or describe the incident (it then runs the generic playbook). */
export const StartIncidentSchema = z
  .union([
    z.strictObject({ scenario: ScenarioIdSchema, options: IncidentOptionsSchema.optional() }),
    z.strictObject({
      title: z.string().trim().min(3).max(200),
      severity: z.enum(SEVERITIES),
      affected_services: z.array(ServiceName).min(1).max(20),
      options: IncidentOptionsSchema.optional(),
    }),
  ])
  .openapi('StartIncident');
export type StartIncident = z.infer<typeof StartIncidentSchema>;

export const IncidentSchema = z
  .object({
    incident_id: z.uuid(),
    /** null for an incident described by title, severity and services. */
    scenario: z.string().nullable(),
    title: z.string(),
    severity: z.enum(SEVERITIES),
    status: z.enum(INCIDENT_STATUSES),
    affected_services: z.array(z.string()),
    affected_regions: z.array(z.string()),
    affected_products: z.array(z.string()),
    created_at: z.string(),
    /** When it reached resolved, failed or cancelled. */
    ended_at: z.string().nullable(),
    /** Seconds from start to resolution (or to its end); null while running. */
    resolution_time: z.number().nullable(),
    cost_savings: z.number().nullable(),
    approval_required: z.boolean(),
    /** The phase-time compression it ran with (1 = the real 15-20 s). */
    time_scale: z.number(),
    options: z.record(z.string(), z.unknown()),
  })
  .openapi('Incident');
export type Incident = z.infer<typeof IncidentSchema>;

export const TimelineEntrySchema = z
  .object({
    action_id: z.string(),
    agent_type: z.enum(AGENT_TYPES),
    step: z.number().int().nullable(),
    kind: z.enum(ACTION_KINDS),
    description: z.string(),
    status: z.enum(ACTION_STATUSES),
    started_at: z.string(),
    ended_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
    attempt: z.number().int(),
    confidence: z.number().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('IncidentAction');
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

export const LinkedKpiSchema = z
  .object({
    metric: z.string(),
    label: z.string(),
    /** The KPI over its strip window just before the incident's effects landed. */
    before: z.number().nullable(),
    /** Its worst value during the incident (by the metric's direction). */
    worst: z.number().nullable(),
    /** After resolution's recovery; null while the incident runs. */
    after: z.number().nullable(),
    unit: z.string(),
    /** Where the site shows this metric. */
    href: z.string(),
  })
  .openapi('IncidentLinkedKpi');

export const LinkedSignalSchema = z
  .object({
    id: z.string(),
    severity: z.string(),
    metric_name: z.string().nullable(),
    entity_label: z.string(),
    href: z.string(),
  })
  .openapi('IncidentLinkedSignal');

export const IncidentDetailSchema = IncidentSchema.extend({
  timeline: z.array(TimelineEntrySchema),
  linked: z.object({ kpis: z.array(LinkedKpiSchema), signals: z.array(LinkedSignalSchema) }),
  /** Present when the scenario has an approval gate and it is, or was, open. */
  approval: z.object({ pending: z.boolean(), deadline: z.string().nullable() }).nullable(),
  cost: z.object({
    /** The formula in words and symbols, as the page shows it. */
    formula: z.string(),
    inputs: z.object({
      cost_per_minute: z.number(),
      manual_mttr_minutes: z.number(),
      resolution_minutes: z.number().nullable(),
    }),
    savings: z.number().nullable(),
  }),
  notification: z.object({
    /** false: INCIDENT_WEBHOOK_URL is not set, and nothing is sent. */
    configured: z.boolean(),
    delivered_at: z.string().nullable(),
    status: z.enum(['not_configured', 'pending', 'delivered', 'failed']),
  }),
}).openapi('IncidentDetail');
export type IncidentDetail = z.infer<typeof IncidentDetailSchema>;

export const IncidentListQuerySchema = z.strictObject({
  status: z.enum(INCIDENT_STATUSES).optional(),
  scenario: ScenarioIdSchema.optional(),
  severity: z.enum(SEVERITIES).optional(),
  'page[size]': z
    .string()
    .regex(/^\d{1,3}$/, 'Expected a whole number')
    .refine((v) => Number(v) >= 1 && Number(v) <= 100, 'Expected 1 to 100')
    .optional()
    .openapi({ description: 'Incidents per page, 1-100 (default 25)' }),
  'page[after]': z.string().max(1_000).optional().openapi({ description: 'The opaque cursor from `links.next`; valid only with the same filters' }),
});

export const IncidentPageSchema = z
  .object({
    data: z.array(IncidentSchema),
    meta: z.object({ has_more: z.boolean(), page_size: z.number().int(), filters: z.record(z.string(), z.string()) }),
    links: z.object({ self: z.string(), next: z.string().nullable() }),
  })
  .openapi('IncidentPage');

/** What approve / reject / cancel answer (202: the workflow takes it from there). */
export const IncidentDecisionSchema = z
  .object({ incident_id: z.uuid(), status: z.enum(INCIDENT_STATUSES), decision: z.enum(['approved', 'rejected', 'cancelled']) })
  .openapi('IncidentDecision');

/** A scenario button's data, from config/incident_scenarios.yaml. */
export const ScenarioSummarySchema = z
  .object({
    id: z.string(),
    label: z.string(),
    title: z.string(),
    severity: z.enum(SEVERITIES),
    description: z.string(),
    affected_services: z.array(z.string()),
    affected_regions: z.array(z.string()),
    affected_products: z.array(z.string()),
    /** Remediation waits for an editor's approval, up to timeout_seconds (scaled by time_scale). */
    approval: z.object({ required: z.boolean(), timeout_seconds: z.number().nullable() }),
    remediation_steps: z.array(z.object({ step: z.number().int(), action: z.string(), compensation: z.string() })),
  })
  .openapi('IncidentScenario');

export const ScenarioListSchema = z.object({ data: z.array(ScenarioSummarySchema), time_scale: z.number() }).openapi('IncidentScenarios');

/** GET /v1/incidents/metrics; the same figures `performance_metrics` carries (messages.ts). */
export const IncidentMetricsSchema = z
  .object({
    incidents_resolved: z.number().int(),
    total_cost_savings: z.number(),
    avg_mttr: z.number().nullable().openapi({ description: 'Mean seconds from start to resolution over resolved incidents' }),
    success_rate: z.number().nullable().openapi({ description: 'resolved / (resolved + failed), 0-1' }),
  })
  .openapi('IncidentMetrics');
