import type { APIRoute } from 'astro';
import { forwardCookies, serverClient } from '../lib/api-client.ts';

/** POST from the header's sign-out button: revoke the session, clear the cookie, back to sign-in. */
export const POST: APIRoute = async ({ request, locals }) => {
  const res = await serverClient(request, locals.cfContext).v1.auth['sign-out'].$post();
  const headers = new Headers({ location: '/sign-in' });
  forwardCookies(res, headers);
  return new Response(null, { status: 303, headers });
};
