import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../lib/app.ts';
import { ApiError } from '../lib/errors.ts';
import { problems } from '../lib/schemas.ts';

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
    ...problems(422, 426),
  },
});

export const dashboardStreamRoutes = newApp().openapi(route, async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('upgrade_required', 'This endpoint speaks WebSocket: send Upgrade: websocket.', {
      headers: { upgrade: 'websocket' },
    });
  }
  const { dashboard } = c.req.valid('query');
  const hub = c.env.DASHBOARD_HUB.get(c.env.DASHBOARD_HUB.idFromName(dashboard));
  return hub.fetch(c.req.raw) as unknown as Response;
});
