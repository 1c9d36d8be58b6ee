// zod/mini, like durable-objects/protocol.ts: the site parses these frames' data with the same
// schemas, and the full zod build would weigh on the dashboard's first view.
import * as z from 'zod/mini';

/** The five agents of an incident, in the order they act. */
export const AGENT_TYPES = ['detection', 'diagnosis', 'prediction', 'resolution', 'communication'] as const;
export type AgentType = (typeof AGENT_TYPES)[number];

/**
 * What a timeline row is: an agent's phase, one remediation step, the compensation of one
 * (`rollback`), the approval gate, or the notification sent.
 */
export const ACTION_KINDS = ['phase', 'remediation', 'rollback', 'approval', 'notification'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/**
 * A row's state. `failed` on a remediation row is a forward failure (after its retries); a
 * remediation row that was undone becomes `rolled_back`, or `rollback_failed` when its
 * compensation failed too (its `rollback` row is then `failed`). `retrying` carries the attempt
 * that failed. Approval rows go waiting_approval → approved | rejected | timed_out.
 */
export const ACTION_STATUSES = [
  'in_progress',
  'completed',
  'failed',
  'retrying',
  'rolled_back',
  'rollback_failed',
  'waiting_approval',
  'approved',
  'rejected',
  'timed_out',
  'cancelled',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export const INCIDENT_STATUSES = ['active', 'waiting_approval', 'resolved', 'failed', 'cancelled'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
/** Statuses an incident never leaves. */
export const FINAL_INCIDENT_STATUSES = ['resolved', 'failed', 'cancelled'] as const satisfies readonly IncidentStatus[];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const Details = z.record(z.string(), z.unknown());

/**
 * One step of an incident as it happens. The same action (action_id) is published once per
 * state it passes through; apply them in seq order and the last one is its current state.
 */
export const AgentActionSchema = z.object({
  agent_type: z.enum(AGENT_TYPES),
  /** Stable within the incident: `detection`, `remediation.3`, `rollback.2`, `approval`, … */
  action_id: z.string(),
  kind: z.enum(ACTION_KINDS),
  /** The remediation step (1-5) a remediation or rollback row is about; null otherwise. */
  step: z.nullable(z.int()),
  description: z.string(),
  /** When this state was reached (ISO). */
  timestamp: z.string(),
  status: z.enum(ACTION_STATUSES),
  /** 0-1; set when the agent has scored its finding. */
  confidence: z.nullable(z.number()),
  /** Set when the action has ended. */
  duration_ms: z.nullable(z.number()),
  /** 1 for the first try; a retry carries the attempt that is about to run. */
  attempt: z.int(),
  details: Details,
});
export type AgentAction = z.infer<typeof AgentActionSchema>;

/** `agent_action` frame data. */
export const AgentActionMessageSchema = z.object({
  incident_id: z.string(),
  action: AgentActionSchema,
});
export type AgentActionMessage = z.infer<typeof AgentActionMessageSchema>;

/** `incident_status` frame data: sent when an incident starts, waits for approval and ends. */
export const IncidentStatusMessageSchema = z.object({
  incident_id: z.string(),
  status: z.enum(INCIDENT_STATUSES),
  /** Seconds from start to resolution; null until it has ended. */
  resolution_time: z.nullable(z.number()),
  /** USD, from the stated formula (see the incident's `cost`); null until resolved. */
  cost_savings: z.nullable(z.number()),
  /** Extra context for the feed: title, scenario and severity ride along so a late client can name it. */
  title: z.optional(z.string()),
  scenario: z.optional(z.nullable(z.string())),
  severity: z.optional(z.enum(SEVERITIES)),
});
export type IncidentStatusMessage = z.infer<typeof IncidentStatusMessageSchema>;

/** The running figures, as GET /v1/incidents/metrics answers them. */
export const PerformanceMetricsSchema = z.object({
  incidents_resolved: z.int(),
  /** USD summed over resolved incidents. */
  total_cost_savings: z.number(),
  /** Mean seconds from start to resolution over resolved incidents; null before the first. */
  avg_mttr: z.nullable(z.number()),
  /** resolved / (resolved + failed), 0-1; null before any incident has ended that way. */
  success_rate: z.nullable(z.number()),
});
export type PerformanceMetrics = z.infer<typeof PerformanceMetricsSchema>;

/** `performance_metrics` frame data: after every incident that ends, and first on every connection. */
export const PerformanceMetricsMessageSchema = z.object({ metrics: PerformanceMetricsSchema });
export type PerformanceMetricsMessage = z.infer<typeof PerformanceMetricsMessageSchema>;
