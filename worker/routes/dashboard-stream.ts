import { createRoute, z } from '@hono/zod-openapi';
import { issueToken } from '../auth/session.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

const QuerySchema = z.strictObject({
  dashboard: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
    .default('default')
    .openapi({ description: 'Which dashboard hub to join' }),
  since: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional()
    .openapi({ description: 'Last `seq` the client saw; the hub replays what came after it' }),
  ticket: z
    .string()
    .max(4096)
    .optional()
    .openapi({ description: 'A stream ticket from POST /v1/dashboard/stream/ticket, for clients that cannot send cookies or headers' }),
});

const TICKET_TTL_SECONDS = 60;

const TicketSchema = z
  .object({ ticket: z.string(), expires_at: z.string(), url: z.string() })
  .openapi('StreamTicket');

const ticketRoute = createRoute({
  method: 'post',
  path: '/v1/dashboard/stream/ticket',
  tags: ['dashboard'],
  summary: 'A one-minute ticket to open the stream without cookies or headers',
  responses: {
    200: { description: 'Ticket', content: { 'application/json': { schema: TicketSchema } } },
    ...problems(401, 500),
  },
});

const route = createRoute({
  method: 'get',
  path: '/v1/dashboard/stream',
  tags: ['dashboard'],
  summary: 'Live dashboard stream (WebSocket)',
  description:
    'Upgrade to a WebSocket. Messages are JSON `{type, seq, ts, ...}`; send `{"type":"resume","since":N}` or connect with `?since=N` to replay what was missed.',
  request: { query: QuerySchema },
  responses: {
    101: { description: 'Switching protocols: the socket is joined to the dashboard hub' },
    ...problems(401, 403, 422, 426),
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
    const identity = c.get('identity')!;
    // The hub learns who connected from the worker, never from a header the client could set.
    const headers = new Headers(c.req.raw.headers);
    headers.set('x-hub-subject', identity.userId);
    const hub = c.env.DASHBOARD_HUB.get(c.env.DASHBOARD_HUB.idFromName(dashboard));
    return hub.fetch(new Request(c.req.raw.url, { headers })) as unknown as Response;
  })
  .openapi(ticketRoute, async (c) => {
    const config = c.get('config');
    if (!config.SESSION_SECRET) throw new ApiError('config_invalid', 'SESSION_SECRET is not set: tickets are unavailable.');
    const identity = c.get('identity')!;
    const { token, claims } = await issueToken(
      { id: identity.userId, email: identity.email, name: identity.name, role: identity.role },
      'stream',
      TICKET_TTL_SECONDS,
      config.SESSION_SECRET,
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
