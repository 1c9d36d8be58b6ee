import { z } from '@hono/zod-openapi';
import { bundledDictionary } from '../../config/bundled.ts';

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/);
const money = z.number().min(0).max(1_000_000);

/**
 * The values the data dictionary lists for a column. Events write the rows that widget filters
 * and group_by read, and those only accept the dictionary's values, so an event may carry nothing
 * else: a row with another name would match no filter and land in a tile's "(other)" group.
 */
function dictionaryValues(table: string, column: string): [string, ...string[]] {
  const values = bundledDictionary().column(table, column)?.allowedValues ?? [];
  const [first, ...rest] = values;
  if (first === undefined) throw new Error(`the data dictionary lists no values for ${table}.${column}`);
  return [first, ...rest];
}

const oneOf = (table: string, column: string) =>
  z.enum(dictionaryValues(table, column)).openapi({ description: `One of the data dictionary's values for ${table}.${column}` });

const base = {
  event_id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/).openapi({ description: 'Client-chosen; a retry with the same id is applied once' }),
  occurred_at: z.iso.datetime({ offset: true }),
};

/** The operational events the dashboard understands; each changes the app database and some KPIs. */
export const EventSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      ...base,
      type: z.literal('claim.filed'),
      data: z.strictObject({
        claim_id: id,
        customer_id: id,
        product: oneOf('claims', 'product'),
        claim_type: oneOf('claims', 'claim_type'),
        region: oneOf('claims', 'region'),
        claim_cost: money,
        cost_avoided: money,
      }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('claim.status_changed'),
      data: z.strictObject({ claim_id: id, status: oneOf('claims', 'status') }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('session.started'),
      data: z.strictObject({
        session_id: id,
        customer_id: id,
        issue_type: oneOf('issue_sessions', 'issue_type'),
        channel: oneOf('issue_sessions', 'channel'),
        // The dictionary's issue_sessions has no region; the session's is the customer's home region.
        region: oneOf('customers', 'region'),
      }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('session.resolved'),
      data: z.strictObject({
        session_id: id,
        outcome: oneOf('issue_sessions', 'outcome'),
        nps_impact: z.number().min(-10).max(10),
      }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('alert.opened'),
      data: z.strictObject({ alert_id: id, severity: z.enum(['info', 'warning', 'critical']), title: z.string().min(1).max(200), metric: z.string().max(63).optional() }),
    }),
    z.strictObject({ ...base, type: z.literal('alert.resolved'), data: z.strictObject({ alert_id: id }) }),
  ])
  .openapi('Event');
export type IngestEvent = z.infer<typeof EventSchema>;

export const IngestRequestSchema = z
  .union([EventSchema, z.strictObject({ events: z.array(EventSchema).min(1).max(500) })])
  .openapi('IngestRequest');

export const IngestResultSchema = z
  .object({
    results: z.array(
      z.object({
        event_id: z.string(),
        status: z.enum(['applied', 'duplicate']),
        seq: z.number().nullable().openapi({ description: 'The hub sequence number it was published as' }),
      }),
    ),
  })
  .openapi('IngestResult');

export const QueuedResultSchema = z
  .object({ results: z.array(z.object({ event_id: z.string(), status: z.literal('queued') })) })
  .openapi('QueuedResult');

export const EventStatusSchema = z
  .object({
    event_id: z.string(),
    status: z.enum(['applied', 'queued', 'dead_lettered']),
    dashboard: z.string(),
    seq: z.number().nullable().optional().openapi({ description: 'applied: the hub seq it was published as (null until published)' }),
    reason: z.string().optional().openapi({ description: 'dead_lettered: why the consumer set it aside' }),
    attempts: z.number().optional().openapi({ description: 'Deliveries of its queue message so far' }),
  })
  .openapi('EventStatus');

/** Which catalog metrics an event type moves, for the KPI updates pushed after it. */
export const METRICS_MOVED: Record<IngestEvent['type'], string[]> = {
  'claim.filed': ['claim_volume', 'claims_by_product', 'claim_status_mix', 'cost_avoided_mtd', 'sla_breach_rate'],
  'claim.status_changed': ['claim_status_mix', 'sla_breach_rate'],
  'session.started': ['issue_sessions_active'],
  'session.resolved': ['issue_sessions_active', 'nps_impact'],
  'alert.opened': ['open_alerts'],
  'alert.resolved': ['open_alerts'],
};
