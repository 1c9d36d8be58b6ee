import { createRoute, z } from '@hono/zod-openapi';
import { setCookie } from 'hono/cookie';
import { sessionCookieOptions } from '../auth/middleware.ts';
import { burnPasswordCheck, verifyPassword } from '../auth/password.ts';
import { guardSignIn } from '../auth/rate-limit.ts';
import { UserSchema } from '../auth/roles.ts';
import { SESSION_COOKIE, issueToken } from '../auth/session.ts';
import { findActiveUserByEmail } from '../auth/users.ts';
import { newApp } from '../http/app.ts';
import { ApiError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

export const SignInRequestSchema = z
  .strictObject({
    email: z.string().trim().min(3).max(254),
    password: z.string().min(1).max(1024),
  })
  .openapi('SignInRequest');

export const SignInResponseSchema = z
  .object({
    token: z.string().openapi({ description: 'Session JWT; also set as the HttpOnly cc_session cookie' }),
    expires_at: z.string(),
    user: UserSchema,
  })
  .openapi('SignInResponse');

const route = createRoute({
  method: 'post',
  path: '/v1/auth/sign-in',
  tags: ['auth'],
  summary: 'Sign in with email and password',
  description:
    'Answers the same 401 for an unknown email and a wrong password. Attempts are rate limited per client address, and failed passwords per email (from one address, and from all together), 429 with Retry-After.',
  request: { body: { required: true, content: { 'application/json': { schema: SignInRequestSchema } } } },
  responses: {
    200: { description: 'Signed in', content: { 'application/json': { schema: SignInResponseSchema } } },
    ...problems(400, 401, 413, 415, 422, 429, 503),
  },
});

export const signInRoutes = newApp().openapi(route, async (c) => {
  const config = c.get('config');
  const services = c.get('services');
  if (!config.SESSION_SECRET) throw new ApiError('config_invalid', 'SESSION_SECRET is not set: sign-in is unavailable.');
  const { email, password } = c.req.valid('json');
  const ip = c.req.header('cf-connecting-ip') ?? 'unknown';
  const guard = await guardSignIn(services.redis, config, email.toLowerCase(), ip);

  const user = await findActiveUserByEmail(services.postgres, email);
  const ok = user?.passwordHash ? await verifyPassword(password, user.passwordHash) : await burnPasswordCheck(password);
  if (!user || !ok) {
    await guard.failed();
    throw new ApiError('unauthenticated', 'Email or password is incorrect.');
  }
  await guard.succeeded();

  const { token, claims } = await issueToken(user, 'session', config.SESSION_TTL_SECONDS, config.SESSION_SECRET);
  setCookie(c, SESSION_COOKIE, token, sessionCookieOptions(config.SESSION_TTL_SECONDS));
  c.header('cache-control', 'no-store');
  return c.json(
    {
      token,
      expires_at: new Date(claims.exp * 1000).toISOString(),
      user: { id: user.id, email: user.email, name: user.name, role: user.role },
    },
    200,
  );
});
