import { createRoute, z } from '@hono/zod-openapi';
import { UserSchema } from '../auth/roles.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../auth/token-store.ts';
import { findActiveUserByEmail, findActiveUserById } from '../auth/users.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

export const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'First characters of the token, to recognise it' }),
    user: UserSchema,
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiToken');

const CreateTokenSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    user_email: z.string().trim().min(3).max(254).optional().openapi({ description: 'Whose token; the caller when absent' }),
    expires_in_days: z.number().int().min(1).max(365).optional(),
  })
  .openapi('CreateApiToken');

const CreatedTokenSchema = ApiTokenSchema.extend({
  token: z.string().openapi({ description: 'The secret. Shown once: only its hash is kept.' }),
}).openapi('CreatedApiToken');

const IdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const listRoute = createRoute({
  method: 'get',
  path: '/v1/auth/tokens',
  tags: ['auth'],
  summary: 'List API tokens (never their secrets)',
  responses: {
    200: { description: 'Tokens', content: { 'application/json': { schema: z.object({ tokens: z.array(ApiTokenSchema) }) } } },
    ...problems(401, 403),
  },
});

const createTokenRoute = createRoute({
  method: 'post',
  path: '/v1/auth/tokens',
  tags: ['auth'],
  summary: 'Create an API token; the secret is in this answer only',
  request: { body: { required: true, content: { 'application/json': { schema: CreateTokenSchema } } } },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: CreatedTokenSchema } } },
    ...problems(401, 403, 404, 422),
  },
});

const revokeRoute = createRoute({
  method: 'delete',
  path: '/v1/auth/tokens/{id}',
  tags: ['auth'],
  summary: 'Revoke an API token',
  request: { params: IdParam },
  responses: {
    200: { description: 'Revoked', content: { 'application/json': { schema: ApiTokenSchema } } },
    ...problems(401, 403, 404, 422),
  },
});

export const tokenRoutes = newApp()
  .openapi(listRoute, async (c) => c.json({ tokens: await listApiTokens(c.get('services').postgres) }, 200))
  .openapi(createTokenRoute, async (c) => {
    const db = c.get('services').postgres;
    const body = c.req.valid('json');
    const owner = body.user_email
      ? await findActiveUserByEmail(db, body.user_email)
      : await findActiveUserById(db, c.get('identity')!.userId);
    if (!owner) throw new ApiError('not_found', 'No active user has that email.');
    const expiresAt = body.expires_in_days ? new Date(Date.now() + body.expires_in_days * 86_400_000) : null;
    const { token, record } = await createApiToken(db, { userId: owner.id, name: body.name, expiresAt });
    c.header('cache-control', 'no-store');
    return c.json({ ...record, token }, 201);
  })
  .openapi(revokeRoute, async (c) => {
    const record = await revokeApiToken(c.get('services').postgres, c.req.valid('param').id);
    if (!record) throw new ApiError('not_found', 'No API token has that id.');
    return c.json(record, 200);
  });
