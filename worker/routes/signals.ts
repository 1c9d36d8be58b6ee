import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../config/env.ts';
import { bundledDictionary } from '../config/bundled.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../http/problem.ts';
import { BUDGETS, spend } from '../http/rate-limit.ts';
import { jsonBody, jsonContent, problems } from '../http/schemas.ts';
import { RecordsSchema, openMetrics } from '../metrics/index.ts';
import { metricBlock } from '../metrics/widgets/store.ts';
import type { Filter } from '../metrics/compose/filters.ts';
import { HydrationBusy, hydrate } from '../signals/hydrate.ts';
import { ensureHydrated, hydrateDeps, metricInfoFor, workflowDeps } from '../signals/index.ts';
import {
  ActivityPageSchema,
  ActivityQuerySchema,
  BulkRequestSchema,
  BulkResultSchema,
  CreateNoteSchema,
  HydrationRunSchema,
  ListQuerySchema,
  NoteSchema,
  PatchSignalSchema,
  ProblemWithSignalSchema,
  ResponseTimesQuerySchema,
  ResponseTimesSchema,
  SignalActivitySchema,
  SignalDetailSchema,
  SignalIdParam,
  SignalPageSchema,
  BULK_MAX,
} from '../signals/schemas.ts';
import type { SignalSummary } from '../signals/schemas.ts';
import { activityPage, listSignals, responseTimes, signalActivity, signalDetail } from '../signals/store.ts';
import { addNote, applyChange, resolveAssignee } from '../signals/workflow.ts';

const conflictContent = { description: 'signal_conflict or signal_transition_invalid, with the signal as it is now', content: { 'application/problem+json': { schema: ProblemWithSignalSchema } } };

const listRoute = createRoute({
  method: 'get',
  path: '/v1/signals',
  tags: ['signals'],
  summary: 'The triage queue: quality signals, newest detection first, filtered, cursor-paginated both ways',
  description:
    'Keyset pagination on (detected_at, id): `links.next`/`links.prev` carry signed cursors bound to these filters (an edited cursor, or one made for other filters, is 422). `meta.counts` counts each status under every filter but status, and each severity under every filter but severity. On first use (no hydration ever succeeded and no signals) the marts are hydrated first.',
  request: { query: ListQuerySchema },
  responses: { 200: jsonContent(SignalPageSchema, 'A page of signals'), ...problems(401, 422, 503) },
});

const activityRoute = createRoute({
  method: 'get',
  path: '/v1/signals/activity',
  tags: ['signals'],
  summary: 'The activity trail across signals, newest first; `actor=me` for your own',
  request: { query: ActivityQuerySchema },
  responses: { 200: jsonContent(ActivityPageSchema, 'A page of activity'), ...problems(401, 422, 503) },
});

const responseTimesRoute = createRoute({
  method: 'get',
  path: '/v1/signals/response-times',
  tags: ['signals'],
  summary: 'Per owner: signals, time to acknowledge and time to resolve (p50 and mean), from the activity trail',
  description: 'Signals that reached the application (created_at) in the window, default the last 30 days; times run from that arrival to the first acknowledged and first closing status event.',
  request: { query: ResponseTimesQuerySchema },
  responses: { 200: jsonContent(ResponseTimesSchema, 'Response times'), ...problems(401, 422, 503) },
});

const hydrateRoute = createRoute({
  method: 'post',
  path: '/v1/signals/hydrate',
  tags: ['signals'],
  summary: 'Hydrate signals from the lakehouse marts now (admin); answers the recorded run',
  description:
    'Reads fct_signals, fct_contributions and fct_model_drivers chunk by chunk and upserts at most 1,000 rows per statement; workflow state is never overwritten and signals gone from the mart are marked stale. Another run in progress: 409 conflict. The lakehouse failing: 503, the run recorded as failed with the batches it committed.',
  responses: { 200: jsonContent(HydrationRunSchema, 'The run'), ...problems(401, 403, 409, 503, 504) },
});

const bulkRoute = createRoute({
  method: 'post',
  path: '/v1/signals/bulk',
  tags: ['signals'],
  summary: `One status and/or assignee change for up to ${BULK_MAX} signals (editor)`,
  description:
    'Each signal is judged on its own and the result says how: applied (changed, or already so), conflict (an {id, version} whose version moved on), invalid (the transition is not allowed from its status), not_found. The applied changes commit together in one transaction with their activity and hub messages.',
  request: jsonBody(BulkRequestSchema),
  responses: { 200: jsonContent(BulkResultSchema, 'One result per id'), ...problems(400, 401, 403, 413, 415, 422, 503) },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/v1/signals/{id}',
  tags: ['signals'],
  summary: 'One signal with its contributions, drivers, narrative, metric, notes, activity, and links to its tile and records',
  request: { params: SignalIdParam },
  responses: { 200: jsonContent(SignalDetailSchema, 'The signal'), ...problems(401, 404, 422, 503) },
});

const patchRoute = createRoute({
  method: 'patch',
  path: '/v1/signals/{id}',
  tags: ['signals'],
  summary: 'Change a signal’s status and/or assignee (editor); send the version you read',
  description:
    'Transitions: new → acknowledged | false_positive | expected; acknowledged → investigating | resolved | false_positive | expected; investigating → acknowledged | resolved | false_positive | expected; a closed one reopens to acknowledged. Another transition: 409 signal_transition_invalid. A version other than the current: 409 signal_conflict. Both problems carry `signal`, the signal as it is now. assignee: `me`, a user id (an active editor or admin, else 422), or null.',
  request: { params: SignalIdParam, ...jsonBody(PatchSignalSchema) },
  responses: { 200: jsonContent(SignalDetailSchema, 'The signal after the change'), 409: conflictContent, ...problems(400, 401, 403, 404, 415, 422, 503) },
});

const signalActivityRoute = createRoute({
  method: 'get',
  path: '/v1/signals/{id}/activity',
  tags: ['signals'],
  summary: 'One signal’s activity trail, oldest first',
  request: { params: SignalIdParam },
  responses: { 200: jsonContent(SignalActivitySchema, 'The trail'), ...problems(401, 404, 422, 503) },
});

const RecordsQuery = z.strictObject({
  page: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: 'Page, from 1 (default 1)' }),
  page_size: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: 'Rows per page, 1-200 (default 50)' }),
});
const SignalRecordsSchema = RecordsSchema.extend({
  signal_id: z.string(),
  entity_filter: z.object({ column: z.string(), value: z.string() }).nullable().openapi({ description: 'The filter that narrows the rows to the entity; null when the metric’s table has no column for it (the rows are the window’s)' }),
}).openapi('SignalRecords');
const recordsRoute = createRoute({
  method: 'get',
  path: '/v1/signals/{id}/records',
  tags: ['signals'],
  summary: 'The rows behind a signal: the tile drill-down of its metric, in its window, filtered to its entity',
  request: { params: SignalIdParam, query: RecordsQuery },
  responses: { 200: jsonContent(SignalRecordsSchema, 'Records'), ...problems(401, 404, 409, 422, 429, 503, 504) },
});

const noteRoute = createRoute({
  method: 'post',
  path: '/v1/signals/{id}/notes',
  tags: ['signals'],
  summary: 'Add a note to a signal (editor); it joins the activity trail',
  request: { params: SignalIdParam, ...jsonBody(CreateNoteSchema) },
  responses: { 201: jsonContent(NoteSchema, 'The note'), ...problems(400, 401, 403, 404, 413, 415, 422, 503) },
});

/** A 409 whose body also carries the signal as it is now, so the client can show what won. */
function conflictResponse(c: Context<AppEnv>, code: 'signal_conflict' | 'signal_transition_invalid', detail: string, signal: SignalSummary): Response {
  const requestId = c.get('requestId');
  return new Response(JSON.stringify({ ...problemBody(code, detail, requestId), signal }), {
    status: 409,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId },
  });
}

const notFound = (id: string) => new ApiError('not_found', `No signal has the id ${id}.`);

/** Which column of a metric's drill-down table names each kind of entity. */
const ENTITY_COLUMNS: Record<string, string> = { region: 'region', product: 'product', channel: 'channel', issue_type: 'issue_type', agent: 'agent_id' };

export const signalRoutes = newApp()
  .openapi(listRoute, async (c) => {
    await ensureHydrated(c);
    const identity = c.get('identity')!;
    return c.json(await listSignals(c.get('services').postgres, c.req.valid('query'), identity.userId, c.get('config').SESSION_SECRET, new URL(c.req.url)), 200);
  })
  .openapi(activityRoute, async (c) => {
    const identity = c.get('identity')!;
    return c.json(await activityPage(c.get('services').postgres, c.req.valid('query'), identity.userId, c.get('config').SESSION_SECRET, new URL(c.req.url)), 200);
  })
  .openapi(responseTimesRoute, async (c) => c.json(await responseTimes(c.get('services').postgres, c.req.valid('query')), 200))
  .openapi(hydrateRoute, async (c) => {
    try {
      const run = await hydrate(hydrateDeps(c), { trigger: 'api', actorId: c.get('identity')!.userId });
      return c.json(run!, 200);
    } catch (error) {
      if (error instanceof HydrationBusy) throw new ApiError('conflict', 'A signal hydration is already running; try again when it has finished.');
      throw error;
    }
  })
  .openapi(bulkRoute, async (c) => {
    const body = c.req.valid('json');
    const identity = c.get('identity')!;
    const deps = workflowDeps(c);
    const assignee = await resolveAssignee(deps.postgres, body.assignee, identity, 'body/assignee');
    const items = body.ids.map((i) => (typeof i === 'string' ? { id: i } : i));
    const outcomes = await applyChange(deps, identity, items, { status: body.status, assignee });
    const meta = { applied: 0, conflict: 0, invalid: 0, not_found: 0 };
    for (const o of outcomes) meta[o.result]++;
    return c.json(
      {
        results: outcomes.map((o) =>
          o.result === 'not_found' ? { id: o.id, result: o.result, code: o.code } : o.result === 'applied' ? { id: o.id, result: o.result, signal: o.signal } : { id: o.id, result: o.result, code: o.code, signal: o.signal },
        ),
        meta,
      },
      200,
    );
  })
  .openapi(detailRoute, async (c) => {
    const { id } = c.req.valid('param');
    const detail = await signalDetail(c.get('services').postgres, id, metricInfoFor(c));
    if (!detail) throw notFound(id);
    return c.json(detail, 200);
  })
  .openapi(patchRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const identity = c.get('identity')!;
    const deps = workflowDeps(c);
    const assignee = await resolveAssignee(deps.postgres, body.assignee, identity, 'body/assignee');
    const [outcome] = await applyChange(deps, identity, [{ id, version: body.version }], { status: body.status, assignee });
    if (!outcome || outcome.result === 'not_found') throw notFound(id);
    if (outcome.result !== 'applied') return conflictResponse(c, outcome.code, outcome.detail, outcome.signal) as never;
    const detail = await signalDetail(deps.postgres, id, metricInfoFor(c));
    if (!detail) throw notFound(id);
    return c.json(detail, 200);
  })
  .openapi(signalActivityRoute, async (c) => {
    const { id } = c.req.valid('param');
    const data = await signalActivity(c.get('services').postgres, id);
    if (!data) throw notFound(id);
    return c.json({ data }, 200);
  })
  .openapi(recordsRoute, async (c) => {
    await spend(c, BUDGETS.records);
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const page = Number(q.page ?? '1');
    const pageSize = Number(q.page_size ?? '50');
    if (page < 1 || pageSize < 1 || pageSize > 200 || page * pageSize > 10_000) {
      throw new ApiError('validation_failed', 'page ≥ 1, page_size 1-200, and page × page_size at most 10,000.', { errors: [{ pointer: 'query/page', message: 'Out of range' }] });
    }
    const [signal] = await c.get('services').postgres.query<{ metric_name: string; entity_type: string; entity_id: string; window_start: Date | string; window_end: Date | string }>(
      'SELECT metric_name, entity_type, entity_id, window_start, window_end FROM signals WHERE id = $1',
      [id],
    );
    if (!signal) throw notFound(id);
    const metrics = await openMetrics(c);
    const metric = metrics.metric(signal.metric_name);
    if (!metric) throw new ApiError('conflict', `Signal ${id} concerns ${signal.metric_name}, which is not an active catalog metric.`);
    const table = metric.lineage.tables[0] ?? '';
    const column = ENTITY_COLUMNS[signal.entity_type];
    const filterable = column !== undefined && bundledDictionary().column(table, column) !== undefined;
    const filters: Filter[] = filterable ? [{ column: column!, op: 'eq', value: signal.entity_id }] : [];
    const now = new Date().toISOString();
    const records = await metrics.records(
      {
        id: `signal:${id}`,
        title: metric.display_name,
        metric: metricBlock(metric),
        visualization: 'table',
        time_window: { start: new Date(signal.window_start).toISOString(), end: new Date(signal.window_end).toISOString() },
        filters,
        created_at: now,
        updated_at: now,
      },
      page,
      pageSize,
    );
    return c.json({ ...records, signal_id: id, entity_filter: filterable ? { column: column!, value: signal.entity_id } : null }, 200);
  })
  .openapi(noteRoute, async (c) => {
    const { id } = c.req.valid('param');
    const note = await addNote(workflowDeps(c), c.get('identity')!, id, c.req.valid('json').body);
    if (!note) throw notFound(id);
    return c.json(note, 201);
  });
