/**
 * The signals API's contract: every request and response of /v1/signals, the workflow's statuses
 * and the transitions between them, and the hub's `signal_update` message. The site builds on
 * these; a change here is a change of the contract.
 */
import { z } from '@hono/zod-openapi';
import { ProblemSchema } from '../http/schemas.ts';

export const STATUSES = ['new', 'acknowledged', 'investigating', 'resolved', 'false_positive', 'expected'] as const;
export type Status = (typeof STATUSES)[number];
export const StatusSchema = z.enum(STATUSES);

/** Statuses that close a signal; "open" means any other. */
export const CLOSED_STATUSES = ['resolved', 'false_positive', 'expected'] as const satisfies readonly Status[];
export const OPEN_STATUSES = ['new', 'acknowledged', 'investigating'] as const satisfies readonly Status[];

/**
 * The workflow: a signal is acknowledged before anyone works on it (so time to acknowledge is
 * always measured), may be dismissed as a false positive or as expected straight away, and a
 * closed signal reopens as acknowledged (someone has seen it already). Setting the status a signal
 * already has is not a transition and changes nothing.
 */
export const TRANSITIONS: Record<Status, readonly Status[]> = {
  new: ['acknowledged', 'false_positive', 'expected'],
  acknowledged: ['investigating', 'resolved', 'false_positive', 'expected'],
  investigating: ['acknowledged', 'resolved', 'false_positive', 'expected'],
  resolved: ['acknowledged'],
  false_positive: ['acknowledged'],
  expected: ['acknowledged'],
};

export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SeveritySchema = z.enum(SEVERITIES);

export const ENTITY_TYPES = ['region', 'product', 'team', 'agent', 'channel', 'issue_type'] as const;
export const EntityTypeSchema = z.enum(ENTITY_TYPES);
export const DIRECTIONS = ['up', 'down'] as const;

/** Signal ids come from the mart: stable per metric, entity and window. */
export const SignalIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'Expected a signal id')
  .openapi({ param: { name: 'id', in: 'path' }, example: 'sig_4f2a9c0d1e3b5a67' });
export const SignalIdParam = z.object({ id: SignalIdSchema });

export const PersonSchema = z.object({ id: z.string(), email: z.string(), name: z.string() }).openapi('SignalPerson');
export type Person = z.infer<typeof PersonSchema>;

export const SignalSummarySchema = z
  .object({
    id: z.string(),
    signal_type: z.string().openapi({ description: '`anomaly` (|z| ≥ 3) or `drift` (2 ≤ |z| < 3)' }),
    metric_name: z.string(),
    metric_label: z.string().openapi({ description: "The catalog metric's display name" }),
    entity_type: EntityTypeSchema,
    entity_id: z.string(),
    entity_label: z.string(),
    window_start: z.string(),
    window_end: z.string(),
    observed_value: z.number(),
    expected_value: z.number(),
    z_score: z.number(),
    direction: z.enum(DIRECTIONS),
    severity: SeveritySchema,
    confidence: z.number().openapi({ description: '0 to 1' }),
    status: StatusSchema,
    assignee: PersonSchema.nullable(),
    stale: z.boolean().openapi({ description: 'The mart no longer has this signal; it is kept with its workflow state' }),
    detected_at: z.string(),
    updated_at: z.string(),
    version: z.number().int().openapi({ description: 'Send it back with a change; a newer one on the server answers 409 signal_conflict' }),
  })
  .openapi('SignalSummary');
export type SignalSummary = z.infer<typeof SignalSummarySchema>;

/** A 409 from PATCH: the problem, and the signal as it is now. */
export const ProblemWithSignalSchema = ProblemSchema.extend({ signal: SignalSummarySchema }).openapi('SignalConflictProblem');

export const ACTIVITY_KINDS = ['status', 'assignee', 'severity', 'note', 'hydrated', 'stale'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/**
 * What an activity event changed from and to: a status or severity name for those kinds, a person
 * (or null for nobody) for `assignee`, the note's id for `note` (from is null), the mart run id for
 * `hydrated` (from the previous run's), and `stale`/`fresh` for `stale`.
 */
export const ActivityValueSchema = z.union([z.string(), PersonSchema]).nullable();

export const ActivityEventSchema = z
  .object({
    id: z.string(),
    signal_id: z.string(),
    actor: PersonSchema.nullable().openapi({ description: 'null: the system (hydration, ownership rules)' }),
    kind: z.enum(ACTIVITY_KINDS),
    from: ActivityValueSchema,
    to: ActivityValueSchema,
    at: z.string(),
  })
  .openapi('SignalActivityEvent');
export type ActivityEvent = z.infer<typeof ActivityEventSchema>;

export const ContributionSchema = z.object({ dimension: z.string(), dimension_value: z.string(), contribution: z.number(), rank: z.number().int() });
export const DriverSchema = z.object({ feature: z.string(), feature_value: z.string(), shap_value: z.number(), rank: z.number().int() });
export const NoteSchema = z.object({ id: z.string(), author: PersonSchema.nullable(), body: z.string(), created_at: z.string() }).openapi('SignalNote');
export type Note = z.infer<typeof NoteSchema>;

export const SignalDetailSchema = SignalSummarySchema.extend({
  narrative: z.string(),
  baseline_stddev: z.number(),
  model_run_id: z.string(),
  contributions: z.array(ContributionSchema).openapi({ description: 'Rank order; the shares sum to about 1' }),
  drivers: z.array(DriverSchema).openapi({ description: 'Rank order (largest |shap_value| first)' }),
  metric: z.object({ name: z.string(), label: z.string(), unit: z.string(), source: z.enum(['postgres', 'databricks']), definition: z.string() }),
  records: z.object({ href: z.string().openapi({ description: 'GET: the rows behind the signal, the same drill-down a tile has, filtered to the entity and window' }) }),
  tile: z.object({ href: z.string().openapi({ description: "The site's page for the metric's tile" }) }),
  notes: z.array(NoteSchema),
  activity: z.array(ActivityEventSchema).openapi({ description: 'Oldest first' }),
  allowed_transitions: z.array(StatusSchema).openapi({ description: 'Statuses a PATCH may move it to now' }),
}).openapi('SignalDetail');
export type SignalDetail = z.infer<typeof SignalDetailSchema>;

const commaList = <T extends readonly [string, ...string[]]>(values: T, name: string) =>
  z
    .string()
    .max(200)
    .refine((v) => v.split(',').every((s) => (values as readonly string[]).includes(s)), `Expected a comma list of ${values.join(', ')}`)
    .optional()
    .openapi({ description: `${name}: comma list of ${values.join(', ')}` });

export const PAGE_SIZE_MAX = 100;
export const PAGE_SIZE_DEFAULT = 50;
const token = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:@ -]+$/, 'Expected letters, digits, and _ . : @ - or space');
const pageSize = z
  .string()
  .regex(/^\d{1,3}$/, 'Expected a whole number')
  .refine((v) => Number(v) >= 1 && Number(v) <= PAGE_SIZE_MAX, `Expected 1 to ${PAGE_SIZE_MAX}`)
  .optional()
  .openapi({ description: `Rows per page, 1-${PAGE_SIZE_MAX} (default ${PAGE_SIZE_DEFAULT})` });
const cursor = z.string().max(1_000).optional();

/** `me`, `nobody`, or a user id. */
export const AssigneeFilterSchema = z.union([z.literal('me'), z.literal('nobody'), z.uuid()]);

export const ListQuerySchema = z.strictObject({
  status: commaList(STATUSES, 'Statuses'),
  severity: commaList(SEVERITIES, 'Severities'),
  signal_type: token.optional(),
  metric: token.optional().openapi({ description: 'A catalog metric name' }),
  entity_type: EntityTypeSchema.optional(),
  entity_id: token.optional(),
  assignee: AssigneeFilterSchema.optional().openapi({ description: '`me`, `nobody`, or a user id' }),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'detected_at ≥ since' }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'detected_at < until' }),
  'page[size]': pageSize,
  'page[after]': cursor.openapi({ description: 'The opaque cursor from `links.next`' }),
  'page[before]': cursor.openapi({ description: 'The opaque cursor from `links.prev`' }),
});
export type ListQuery = z.infer<typeof ListQuerySchema>;

const countsOf = <T extends readonly string[]>(values: T) => z.object(Object.fromEntries(values.map((v) => [v, z.number().int()])) as Record<T[number], z.ZodNumber>);

export const SignalPageSchema = z
  .object({
    data: z.array(SignalSummarySchema),
    meta: z.object({
      has_more: z.boolean().openapi({ description: 'More rows past this page in the direction it was read' }),
      page_size: z.number().int(),
      counts: z.object({
        by_status: countsOf(STATUSES).openapi({ description: 'Signals per status under every filter but status' }),
        by_severity: countsOf(SEVERITIES).openapi({ description: 'Signals per severity under every filter but severity' }),
      }),
    }),
    links: z.object({ self: z.string(), next: z.string().nullable(), prev: z.string().nullable() }),
  })
  .openapi('SignalPage');
export type SignalPage = z.infer<typeof SignalPageSchema>;

/** `me`, a user id, or null to unassign. */
export const AssigneeInputSchema = z.union([z.literal('me'), z.uuid()]).nullable();

export const PatchSignalSchema = z
  .strictObject({
    status: StatusSchema.optional(),
    assignee: AssigneeInputSchema.optional().openapi({ description: '`me`, a user id, or null to unassign' }),
    version: z.number().int().min(0).openapi({ description: 'The version last read; another one answers 409 signal_conflict with the current signal' }),
  })
  .refine((v) => v.status !== undefined || v.assignee !== undefined, { message: 'Give a status, an assignee, or both', path: ['status'] })
  .openapi('PatchSignal');
export type PatchSignal = z.infer<typeof PatchSignalSchema>;

export const NOTE_MAX_CHARS = 4_000;
export const CreateNoteSchema = z.strictObject({ body: z.string().trim().min(1).max(NOTE_MAX_CHARS) }).openapi('CreateSignalNote');

export const BULK_MAX = 500;
export const BulkItemSchema = z.union([SignalIdSchema, z.strictObject({ id: SignalIdSchema, version: z.number().int().min(0) })]);
export const BulkRequestSchema = z
  .strictObject({
    ids: z.array(BulkItemSchema).min(1).max(BULK_MAX).openapi({ description: `At most ${BULK_MAX}: ids, or {id, version} to refuse a signal changed since it was read` }),
    status: StatusSchema.optional(),
    assignee: AssigneeInputSchema.optional(),
  })
  .refine((v) => v.status !== undefined || v.assignee !== undefined, { message: 'Give a status, an assignee, or both', path: ['status'] })
  .openapi('BulkSignalRequest');
export type BulkRequest = z.infer<typeof BulkRequestSchema>;

/**
 * One result per id, in request order. Each id is its own transaction: `applied` (changed, or
 * already so), `conflict` (its version moved on), `invalid` (the transition is not allowed from its
 * status), `not_found`.
 */
export const BulkResultSchema = z
  .object({
    results: z.array(
      z.object({
        id: z.string(),
        result: z.enum(['applied', 'conflict', 'invalid', 'not_found']),
        code: z.string().optional().openapi({ description: 'The problem code a single PATCH would have answered' }),
        signal: SignalSummarySchema.optional().openapi({ description: 'The signal after the change (applied) or as it is (conflict, invalid)' }),
      }),
    ),
    meta: z.object({ applied: z.number().int(), conflict: z.number().int(), invalid: z.number().int(), not_found: z.number().int() }),
  })
  .openapi('BulkSignalResult');
export type BulkResult = z.infer<typeof BulkResultSchema>;

export const ActivityQuerySchema = z.strictObject({
  actor: z.union([z.literal('me'), z.uuid()]).optional().openapi({ description: '`me` or a user id; every actor when absent' }),
  'page[size]': pageSize,
  'page[after]': cursor,
});
export const ActivityPageSchema = z
  .object({
    data: z.array(ActivityEventSchema).openapi({ description: 'Newest first' }),
    meta: z.object({ has_more: z.boolean(), page_size: z.number().int() }),
    links: z.object({ self: z.string(), next: z.string().nullable() }),
  })
  .openapi('SignalActivityPage');
export const SignalActivitySchema = z.object({ data: z.array(ActivityEventSchema).openapi({ description: 'Oldest first' }) }).openapi('SignalActivity');

const Durations = z.object({
  p50_seconds: z.number().nullable(),
  avg_seconds: z.number().nullable(),
});
export const ResponseTimesQuerySchema = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Signals detected at or after (default: 30 days ago)' }),
  until: z.iso.datetime({ offset: true }).optional(),
});
export const ResponseTimesSchema = z
  .object({
    data: z.array(
      z.object({
        owner: PersonSchema.nullable().openapi({ description: 'The current assignee; null: unassigned' }),
        count: z.number().int().openapi({ description: 'Signals they own in the window' }),
        acknowledged: z.number().int(),
        resolved: z.number().int().openapi({ description: 'Closed: resolved, false positive or expected' }),
        time_to_acknowledge: Durations.openapi({ description: 'Detected → first acknowledged, from the activity trail' }),
        time_to_resolve: Durations.openapi({ description: 'Detected → first closed, from the activity trail' }),
      }),
    ),
    meta: z.object({ since: z.string(), until: z.string() }),
  })
  .openapi('SignalResponseTimes');
export type ResponseTimes = z.infer<typeof ResponseTimesSchema>;

export const HYDRATION_TRIGGERS = ['first_use', 'cli', 'api', 'refresh'] as const;
export type HydrationTrigger = (typeof HYDRATION_TRIGGERS)[number];

export const HydrationRunSchema = z
  .object({
    id: z.string(),
    trigger: z.enum(HYDRATION_TRIGGERS),
    actor: PersonSchema.nullable(),
    status: z.enum(['running', 'succeeded', 'failed']),
    model_run_id: z.string().nullable().openapi({ description: "The marts' build this run read (mart_runs)" }),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
    read: z.number().int(),
    inserted: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    stale: z.number().int().openapi({ description: 'Signals that left the mart in this run and were marked stale' }),
    rejected: z.number().int().openapi({ description: 'Mart rows with a null or malformed column, skipped' }),
    error: z.string().nullable(),
  })
  .openapi('SignalHydrationRun');
export type HydrationRun = z.infer<typeof HydrationRunSchema>;

/**
 * The hub message every change publishes (type `signal_update`): one per changed signal, with its
 * state after the change. A hydration run that changed anything also publishes one summary with
 * `signal_id: null` and `kind: 'hydrated'` (refetch the list); it names at most
 * HUB_SIGNALS_PER_RUN signals one by one.
 */
export const SignalUpdateSchema = z.union([
  z.object({
    signal_id: z.string(),
    status: StatusSchema,
    assignee: PersonSchema.nullable(),
    severity: SeveritySchema,
    stale: z.boolean(),
    version: z.number().int(),
    kind: z.enum(ACTIVITY_KINDS),
    actor: PersonSchema.nullable(),
  }),
  z.object({
    signal_id: z.null(),
    kind: z.literal('hydrated'),
    run: z.object({ id: z.string(), inserted: z.number().int(), updated: z.number().int(), stale: z.number().int() }),
  }),
]);
export type SignalUpdate = z.infer<typeof SignalUpdateSchema>;
export const HUB_SIGNALS_PER_RUN = 100;
