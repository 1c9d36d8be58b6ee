import { createRoute, z } from '@hono/zod-openapi';
import { dataContext } from '../metrics/context.ts';
import { applyEvents } from '../dashboard/events/apply.ts';
import { publishEvents } from '../dashboard/events/publish.ts';
import { IngestRequestSchema, IngestResultSchema } from '../dashboard/events/schema.ts';
import type { IngestEvent } from '../dashboard/events/schema.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

const route = createRoute({
  method: 'post',
  path: '/v1/events',
  tags: ['events'],
  summary: 'Ingest one event or a batch; each event_id is applied exactly once',
  description:
    'The batch is applied in one transaction (all or nothing). After the commit each event and the KPIs it moved are published to the dashboard hub. A retry with the same event_id answers `duplicate` with the original seq, and publishes the event if an earlier attempt could not.',
  request: {
    query: z.strictObject({ dashboard: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/).default('default') }),
    body: { required: true, content: { 'application/json': { schema: IngestRequestSchema } } },
  },
  responses: {
    200: { description: 'Applied or recognised as duplicates', content: { 'application/json': { schema: IngestResultSchema } } },
    ...problems(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const eventRoutes = newApp().openapi(route, async (c) => {
  const body = c.req.valid('json');
  const events: IngestEvent[] = 'events' in body ? body.events : [body];
  const ids = events.map((e) => e.event_id);
  if (new Set(ids).size !== ids.length) throw new ApiError('validation_failed', 'A batch may carry each event_id once.');
  const { ctx, routing, catalog } = await dataContext(c);
  const postgres = ctx.services.postgres;
  const userId = c.get('identity')!.userId;

  // Apply what is new in one transaction; what was seen before is only looked up. The event
  // rows go in with one statement and the effects with one per run of a type, so a batch costs a
  // handful of round trips whatever its size.
  const seen = await postgres.transaction(async (tx) => {
    const inserted = await tx.query<{ event_id: string }>(
      `INSERT INTO events (event_id, type, occurred_at, payload, received_by)
       SELECT e.event_id, e.type, e.occurred_at, e.payload, $5
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[]) WITH ORDINALITY AS e(event_id, type, occurred_at, payload, n)
        ORDER BY e.n
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      [ids, events.map((e) => e.type), events.map((e) => e.occurred_at), events.map((e) => JSON.stringify(e.data)), userId],
    );
    const fresh = new Set(inserted.map((r) => r.event_id));
    const known = new Map<string, number | null>();
    if (fresh.size < events.length) {
      const rows = await tx.query<{ event_id: string; published_seq: string | number | null }>(
        'SELECT event_id, published_seq FROM events WHERE event_id = ANY($1::text[])',
        [ids.filter((id) => !fresh.has(id))],
      );
      for (const r of rows) known.set(r.event_id, r.published_seq === null ? null : Number(r.published_seq));
    }
    await applyEvents(tx, events.filter((e) => fresh.has(e.event_id)));
    return known;
  });

  const toPublish = events.filter((e) => !seen.has(e.event_id) || seen.get(e.event_id) === null);
  const published = await publishEvents(c.env, postgres, c.req.valid('query').dashboard, toPublish, catalog, routing);
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
});
