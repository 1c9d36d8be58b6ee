import { createRoute, z } from '@hono/zod-openapi';
import { DASHBOARD_NAME, isKnownDashboard } from '../../durable-objects/dashboards.ts';
import { openMetrics } from '../metrics/index.ts';
import { kpiUpdatesAfterIngest, ownPostgres, storeAndPublish } from '../dashboard/events/publish.ts';
import { EventStatusSchema, IngestRequestSchema, IngestResultSchema, QueuedResultSchema } from '../dashboard/events/schema.ts';
import { enqueueEvents, eventStatus } from '../queues/events.ts';
import { afterAnswer } from '../http/after-answer.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';
import type { IngestEvent } from '../dashboard/events/schema.ts';

const route = createRoute({
  method: 'post',
  path: '/v1/events',
  tags: ['events'],
  summary: 'Ingest one event or a batch; each event_id is applied exactly once',
  description:
    'The batch is applied in one transaction (all or nothing). After the commit each event and the KPIs it moved are published to the dashboard hub. Events are published from what was stored, each exactly once: this request publishes its own and any older ones a failed publish left behind, and a scheduled drain takes any still waiting. A retry with the same event_id answers `duplicate` with the original seq (null while the first delivery is still being published).',
  request: {
    query: z.strictObject({
      dashboard: z.string().regex(DASHBOARD_NAME).default('default').openapi({ description: 'One of the configured DASHBOARDS (404 otherwise)' }),
      mode: z
        .enum(['sync', 'async'])
        .default('sync')
        .openapi({ description: '`async`: the events go to the events queue and the answer is 202 with their ids; `GET /v1/events/{id}` tells when each is applied' }),
    }),
    body: { required: true, content: { 'application/json': { schema: IngestRequestSchema } } },
  },
  responses: {
    200: { description: 'Applied or recognised as duplicates', content: { 'application/json': { schema: IngestResultSchema } } },
    202: { description: 'Queued (mode=async): applied by the queue consumer, each event_id once', content: { 'application/json': { schema: QueuedResultSchema } } },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422, 503),
  },
});

const statusRoute = createRoute({
  method: 'get',
  path: '/v1/events/{id}',
  tags: ['events'],
  summary: 'Where an event stands: applied (with its hub seq), queued, or dead-lettered with the reason',
  request: { params: z.object({ id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/) }) },
  responses: {
    200: { description: 'The event’s status', content: { 'application/json': { schema: EventStatusSchema } } },
    ...problems(401, 404, 422, 503),
  },
});

export const eventRoutes = newApp()
  .openapi(route, async (c) => {
    const { dashboard, mode } = c.req.valid('query');
    // Every name is a hub with storage: only configured dashboards are published to.
    if (!isKnownDashboard(c.get('config').DASHBOARDS, dashboard)) throw new ApiError('not_found', `No dashboard is named ${dashboard}.`);
    const body = c.req.valid('json');
    const events: IngestEvent[] = 'events' in body ? body.events : [body];
    const ids = events.map((e) => e.event_id);
    if (new Set(ids).size !== ids.length) throw new ApiError('validation_failed', 'A batch may carry each event_id once.');
    if (mode === 'async') {
      await enqueueEvents(c.env.EVENTS_QUEUE, c.get('services').postgres, dashboard, c.get('identity')!.userId, events);
      return c.json({ results: events.map((e) => ({ event_id: e.event_id, status: 'queued' as const })) }, 202);
    }
    const postgres = c.get('services').postgres;
    const defer = (work: Promise<unknown>) => afterAnswer(c, work);
    const [metrics, stored] = await Promise.all([openMetrics(c), storeAndPublish(c.env, postgres, events, c.get('identity')!.userId, dashboard, c.get('log'), defer)]);
    const { known: seen, published, events: sent } = stored;
    // The answer waits for the commit and the hub's log, not for KPI queries nor for delivery.
    const log = c.get('log');
    await defer(kpiUpdatesAfterIngest(dashboard, { env: c.env, events: sent, ...metrics, log, open: ownPostgres(c.get('config'), log) }));
    const seqOf = new Map(published.map((p) => [p.event_id, p.seq]));
    return c.json(
      {
        results: events.map((e) => ({
          event_id: e.event_id,
          status: seen.has(e.event_id) ? ('duplicate' as const) : ('applied' as const),
          seq: seqOf.get(e.event_id) ?? seen.get(e.event_id) ?? null,
        })),
      },
      200,
    );
  })
  .openapi(statusRoute, async (c) => {
    const { id } = c.req.valid('param');
    const status = await eventStatus(c.get('services').postgres, id);
    if (!status) throw new ApiError('not_found', `No event ${id} was received.`);
    return c.json(status, 200);
  });
