import { createRoute, z } from '@hono/zod-openapi';
import { UserSchema } from '../auth/roles.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

export const MeSchema = UserSchema.extend({
  via: z.enum(['session', 'api_token', 'access', 'stream_ticket']),
  expires_at: z.string().nullable(),
}).openapi('Me');

const route = createRoute({
  method: 'get',
  path: '/v1/auth/me',
  tags: ['auth'],
  summary: 'Who is asking',
  responses: {
    200: { description: 'The caller', content: { 'application/json': { schema: MeSchema } } },
    ...problems(401),
  },
});

export const meRoutes = newApp().openapi(route, (c) => {
  const identity = c.get('identity');
  if (!identity) throw new ApiError('unauthenticated', 'Sign in first.');
  return c.json(
    {
      id: identity.userId,
      email: identity.email,
      name: identity.name,
      role: identity.role,
      via: identity.via,
      expires_at: identity.expiresAt ? new Date(identity.expiresAt * 1000).toISOString() : null,
    },
    200,
  );
});
