import { createRoute, z } from '@hono/zod-openapi';
import { LayoutTilesSchema } from '../../durable-objects/user-space.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';
import { listWidgets } from '../metrics/widgets/store.ts';

const TileSchema = z
  .object({
    widget_id: z.string(),
    w: z.number().int().openapi({ description: 'Width in columns of a 12-column grid (1–12); the page shows 4, 6, 8 or 12.' }),
    h: z.number().int().openapi({ description: 'Height in rows (1–12).' }),
  })
  .openapi('LayoutTile');
export const LayoutSchema = z
  .object({ version: z.number().int(), tiles: z.array(TileSchema), updated_at: z.string().nullable() })
  .openapi('Layout');
const PutLayoutSchema = z
  .strictObject({
    version: z.number().int().min(0).openapi({ description: 'The version this write is based on; a stale one gets 409' }),
    tiles: LayoutTilesSchema,
  })
  .openapi('PutLayout');

const getRoute = createRoute({
  method: 'get',
  path: '/v1/dashboard/layout',
  tags: ['dashboard'],
  summary: 'The caller’s tile order and sizes',
  responses: { 200: { description: 'Layout', content: { 'application/json': { schema: LayoutSchema } } }, ...problems(401) },
});

const putRoute = createRoute({
  method: 'put',
  path: '/v1/dashboard/layout',
  tags: ['dashboard'],
  summary: 'Replace the caller’s layout (editor); the body names the version it read',
  request: { body: { required: true, content: { 'application/json': { schema: PutLayoutSchema } } } },
  responses: {
    200: { description: 'Stored', content: { 'application/json': { schema: LayoutSchema } } },
    ...problems(400, 401, 403, 409, 415, 422, 503),
  },
});

const space = (env: { USER_SPACE: DurableObjectNamespace<import('../../durable-objects/user-space.ts').UserSpace> }, userId: string) =>
  env.USER_SPACE.get(env.USER_SPACE.idFromName(userId));

export const dashboardLayoutRoutes = newApp()
  .openapi(getRoute, async (c) => c.json(await space(c.env, c.get('identity')!.userId).getLayout(), 200))
  .openapi(putRoute, async (c) => {
    const identity = c.get('identity')!;
    const { version, tiles } = c.req.valid('json');
    // Only the caller's own widgets may be placed; a foreign or missing id is a 422, not a silent drop.
    const owned = new Set((await listWidgets(c.get('services').postgres, identity.userId)).map((w) => w.id));
    const unknown = tiles.filter((t) => !owned.has(t.widget_id)).map((t) => t.widget_id);
    if (unknown.length > 0) {
      throw new ApiError('validation_failed', `These tiles are not your widgets: ${unknown.join(', ')}.`, {
        errors: unknown.map((id) => ({ pointer: 'body/tiles', message: `unknown widget ${id}` })),
      });
    }
    const result = await space(c.env, identity.userId).putLayout(tiles, version);
    if (!result.ok && result.reason === 'version_conflict') {
      throw new ApiError('conflict', `The layout changed since version ${version}; the current version is ${result.current.version}. Reload and retry.`);
    }
    if (!result.ok) throw new ApiError('validation_failed', result.reason === 'invalid_layout' ? result.issues.join('; ') : 'invalid layout');
    // The user's other tabs reload their layout; the message names only the user and version.
    const hub = c.env.DASHBOARD_HUB.get(c.env.DASHBOARD_HUB.idFromName('default'));
    c.executionCtx.waitUntil(
      hub.publish({ type: 'layout_update', data: { user_id: identity.userId, version: result.layout.version } }).catch(() => undefined),
    );
    return c.json(result.layout, 200);
  });
