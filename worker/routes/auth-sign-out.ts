import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie } from 'hono/cookie';
import { revokeSession } from '../auth/revocation.ts';
import { SESSION_COOKIE } from '../auth/session.ts';
import { newApp } from '../http/app.ts';

const route = createRoute({
  method: 'post',
  path: '/v1/auth/sign-out',
  tags: ['auth'],
  summary: 'Sign out: clear the session cookie and revoke the session',
  responses: {
    200: {
      description: 'Signed out (also when there was no session)',
      content: { 'application/json': { schema: z.object({ signed_out: z.literal(true), revoked: z.boolean() }).openapi('SignOut') } },
    },
  },
});

export const signOutRoutes = newApp().openapi(route, async (c) => {
  const identity = c.get('identity');
  let revoked = false;
  if (identity && identity.via === 'session' && identity.expiresAt) {
    revoked = await revokeSession(c.get('services').redis, identity.credentialId, identity.expiresAt, c.get('log'));
  }
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' });
  return c.json({ signed_out: true as const, revoked }, 200);
});
