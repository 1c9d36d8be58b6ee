import { createRoute, z } from '@hono/zod-openapi';
import { DASHBOARD_NAME, HUB_EDGE_HEADER, edgeFor, hubFor, isKnownDashboard } from '../../durable-objects/dashboards.ts';
import { HUB_CREDENTIAL_HEADER, socketCredential } from '../auth/socket-access.ts';
import { issueToken } from '../auth/session.ts';
import { activeUserById } from '../auth/user-cache.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

const QuerySchema = z.strictObject({
  dashboard: z
    .string()
    .regex(DASHBOARD_NAME)
    .default('default')
    .openapi({ description: 'Which dashboard hub to join: one of the configured DASHBOARDS (404 otherwise)' }),
  since: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional()
    .openapi({ description: 'Last `seq` the client saw; the hub replays what came after it' }),
  ticket: z
    .string()
    .max(4096)
    .optional()
    .openapi({ description: 'A single-use stream ticket from POST /v1/dashboard/stream/ticket, for clients that cannot send cookies or headers' }),
});

const TICKET_TTL_SECONDS = 60;

const TicketSchema = z
  .object({ ticket: z.string(), expires_at: z.string(), url: z.string() })
  .openapi('StreamTicket');

const ticketRoute = createRoute({
  method: 'post',
  path: '/v1/dashboard/stream/ticket',
  tags: ['dashboard'],
  summary: 'A single-use, one-minute ticket to open the stream without cookies or headers',
  description:
    'The ticket opens one socket, once, within a minute, and only while the session it was minted from stands; the socket is closed when that session ends or expires. Needs Redis (503 `redis_unavailable` without it).',
  responses: {
    200: { description: 'Ticket', content: { 'application/json': { schema: TicketSchema } } },
    ...problems(401, 500, 503),
  },
});

const route = createRoute({
  method: 'get',
  path: '/v1/dashboard/stream',
  tags: ['dashboard'],
  summary: 'Live dashboard stream (WebSocket)',
  description:
    'Upgrade to a WebSocket. Messages are JSON `{type, seq, ts, ...}`; send `{"type":"resume","since":N}` or connect with `?since=N` to replay what was missed. The socket is closed (4005) when its session is signed out or the account is disabled or changed, and (4004) when its credential expires; close codes in durable-objects/protocol.ts.',
  request: { query: QuerySchema },
  responses: {
    101: { description: 'Switching protocols: the socket is joined to the dashboard hub' },
    ...problems(401, 403, 404, 422, 426, 503),
  },
});

const HubStatsSchema = z
  .object({
    dashboard: z.string(),
    connections: z.int().openapi({ description: 'Sockets held by the dashboard’s edges' }),
    last_seq: z.int(),
    oldest_seq: z.int().nullable().openapi({ description: 'Oldest seq the replay log still holds' }),
    edges: z.array(z.object({ name: z.string(), index: z.int(), sockets: z.int() })),
    dropped: z.record(z.string(), z.int()).openapi({ description: 'Sockets the edges closed since they last woke, by reason' }),
    replays: z
      .object({ log_loads: z.int(), single: z.int() })
      .openapi({ description: 'Replays the root answered since it woke: whole-log loads by edges (a reconnect storm costs one per edge) and single replays' }),
  })
  .openapi('HubStats');

const hubRoute = createRoute({
  method: 'get',
  path: '/v1/dashboard/hub',
  tags: ['dashboard'],
  summary: 'The dashboard hub as operators see it: sockets per edge, drops by reason, replays served',
  request: { query: z.strictObject({ dashboard: QuerySchema.shape.dashboard }) },
  responses: {
    200: { description: 'Hub state', content: { 'application/json': { schema: HubStatsSchema } } },
    ...problems(401, 403, 404, 422, 503),
  },
});

export const dashboardStreamRoutes = newApp()
  .openapi(route, async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError('upgrade_required', 'This endpoint speaks WebSocket: send Upgrade: websocket.', {
        headers: { upgrade: 'websocket' },
      });
    }
    const { dashboard } = c.req.valid('query');
    // Every name is an object with storage: only configured dashboards are reached.
    if (!isKnownDashboard(c.get('config').DASHBOARDS, dashboard)) throw new ApiError('not_found', `No dashboard is named ${dashboard}.`);
    const identity = c.get('identity')!;
    // The hub learns who connected, and with what credential, from the worker alone.
    const headers = new Headers({ upgrade: 'websocket' });
    headers.set(HUB_CREDENTIAL_HEADER, JSON.stringify(socketCredential(identity)));
    // The root places the socket on one of the dashboard's edges; the edge holds it from then on.
    const { index } = await hubFor(c.env.DASHBOARD_HUB, dashboard).placement();
    headers.set(HUB_EDGE_HEADER, JSON.stringify({ dashboard, index }));
    return edgeFor(c.env.DASHBOARD_HUB_EDGE, dashboard, index).fetch(new Request(c.req.raw.url, { headers })) as unknown as Response;
  })
  .openapi(hubRoute, async (c) => {
    const { dashboard } = c.req.valid('query');
    if (!isKnownDashboard(c.get('config').DASHBOARDS, dashboard)) throw new ApiError('not_found', `No dashboard is named ${dashboard}.`);
    const stats = await hubFor(c.env.DASHBOARD_HUB, dashboard).stats();
    c.header('cache-control', 'no-store');
    return c.json(
      {
        dashboard,
        connections: stats.connections,
        last_seq: stats.lastSeq,
        oldest_seq: stats.oldestSeq,
        edges: stats.edges,
        dropped: stats.dropped,
        replays: { log_loads: stats.replays.logLoads, single: stats.replays.single },
      },
      200,
    );
  })
  .openapi(ticketRoute, async (c) => {
    const config = c.get('config');
    if (!config.SESSION_SECRET) throw new ApiError('config_invalid', 'SESSION_SECRET is not set: tickets are unavailable.');
    // Single use is recorded in Redis; without it a ticket could be replayed for its whole minute.
    if (!c.get('services').redis.client) throw new ApiError('redis_unavailable', 'Stream tickets need Redis, which is not configured here; use the session cookie.');
    const identity = c.get('identity')!;
    // The ticket stands for the credential it was minted with: its session (sign-out and epochs
    // reach it) and its expiry (the socket closes then).
    const credential = socketCredential(identity);
    const epoch = identity.session?.epoch ?? (await activeUserById(c.get('services').postgres, identity.userId))?.sessionEpoch ?? 0;
    const { token, claims } = await issueToken(
      { id: identity.userId, email: identity.email, name: identity.name, role: identity.role, sessionEpoch: epoch },
      'stream',
      TICKET_TTL_SECONDS,
      config.SESSION_SECRET,
      { sid: credential.credentialId, sx: credential.expiresAt ?? Math.floor(Date.now() / 1000) + config.SESSION_TTL_SECONDS },
    );
    c.header('cache-control', 'no-store');
    return c.json(
      {
        ticket: token,
        expires_at: new Date(claims.exp * 1000).toISOString(),
        url: `/v1/dashboard/stream?ticket=${encodeURIComponent(token)}`,
      },
      200,
    );
  });
