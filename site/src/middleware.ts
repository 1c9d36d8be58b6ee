import { defineMiddleware } from 'astro:middleware';
import { forwardCookies, serverClient } from './lib/api-client.ts';

const PUBLIC_PAGES = new Set(['/sign-in']);

/**
 * Every page needs a signed-in user; without one the browser goes to /sign-in and comes back
 * afterwards. The API decides who the user is, so pages and API can never disagree.
 */
export const onRequest = defineMiddleware(async (context, next) => {
  if (PUBLIC_PAGES.has(context.url.pathname)) return next();
  const res = await serverClient(context.request, context.locals.cfContext).v1.auth.me.$get();
  if (res.status === 401) {
    const nextPath = context.url.pathname + context.url.search;
    return context.redirect(`/sign-in?next=${encodeURIComponent(nextPath)}`, 303);
  }
  if (!res.ok) return new Response('The sign-in service is unavailable.', { status: 503 });
  const me = await res.json();
  context.locals.user = { id: me.id, email: me.email, name: me.name, role: me.role };
  const response = await next();
  forwardCookies(res, response.headers);
  return response;
});
