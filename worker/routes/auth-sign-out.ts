import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie } from 'hono/cookie';
import { hubFor } from '../../durable-objects/dashboards.ts';
import type { AccessEnd } from '../../durable-objects/dashboard-hub.ts';
import { sameOrigin } from '../auth/middleware.ts';
import { publishEpoch, revokeSession } from '../auth/revocation.ts';
import { SESSION_COOKIE } from '../auth/session.ts';
import { forgetUser } from '../auth/user-cache.ts';
import { bumpSessionEpoch } from '../auth/users.ts';
import type { AppEnv } from '../config/env.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

const route = createRoute({
  method: 'post',
  path: '/v1/auth/sign-out',
  tags: ['auth'],
  summary: 'Sign out: clear the session cookie, revoke the session and close its live sockets',
  description:
    'With `?everywhere=true` every session of the caller ends (browser sessions and stream tickets; API tokens are revoked on their own) and all of the caller\'s live sockets close.',
  // `everywhere` is read by hand rather than declared, so the typed client's plain `$post()` stays valid.
  parameters: [{ name: 'everywhere', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } }],
  responses: {
    200: {
      description: 'Signed out (also when there was no session)',
      content: {
        'application/json': {
          schema: z
            .object({ signed_out: z.literal(true), revoked: z.boolean(), everywhere: z.boolean(), sockets_closed: z.number().int() })
            .openapi('SignOut'),
        },
      },
    },
    ...problems(401, 403, 422, 503),
  },
});

export const signOutRoutes = newApp().openapi(route, async (c) => {
  const identity = c.get('identity');
  const services = c.get('services');
  const log = c.get('log');
  const everywhereParam = c.req.query('everywhere') ?? 'false';
  if (everywhereParam !== 'true' && everywhereParam !== 'false') {
    throw new ApiError('validation_failed', 'everywhere must be true or false.', { errors: [{ pointer: 'query/everywhere', message: 'expected true or false' }] });
  }
  const everywhere = everywhereParam === 'true';
  let revoked = false;
  let socketsClosed = 0;
  if (everywhere) {
    if (!identity) throw new ApiError('unauthenticated', 'Sign in first: signing out everywhere ends the sessions of the caller.');
    // Sign-out itself is open to any page (it only ends the caller's own session); ending every
    // session is checked like a write.
    if (identity.via === 'session' && c.req.header('authorization') === undefined && !sameOrigin(c)) {
      throw new ApiError('forbidden', 'Cross-site request refused: the Origin does not match this site.');
    }
    const epoch = await bumpSessionEpoch(services.postgres, identity.userId);
    if (epoch === null) throw new ApiError('unauthenticated', 'The account no longer exists.');
    forgetUser(identity.userId);
    await publishEpoch(services.redis, identity.userId, epoch, log);
    revoked = true;
    socketsClosed = await closeSockets(c, { userId: identity.userId });
  } else if (identity?.session && identity.via === 'session') {
    revoked = await revokeSession(services.redis, identity.session.id, identity.session.expiresAt, log);
    socketsClosed = await closeSockets(c, { sessionId: identity.session.id });
  }
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' });
  return c.json({ signed_out: true as const, revoked, everywhere, sockets_closed: socketsClosed }, 200);
});

/** Tells every dashboard's hub; a hub that cannot be reached closes them on its next sweep anyway. */
async function closeSockets(c: Context<AppEnv>, which: AccessEnd): Promise<number> {
  const results = await Promise.allSettled(c.get('config').DASHBOARDS.map((d) => hubFor(c.env.DASHBOARD_HUB, d).endAccess(which)));
  let closed = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') closed += r.value;
    else c.get('log').warn('hub not told of a sign-out; its sweep will close the sockets', { error: r.reason });
  }
  return closed;
}
