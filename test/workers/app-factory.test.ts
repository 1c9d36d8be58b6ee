import { env } from 'cloudflare:workers';
import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { newApp, requestIds } from '../../worker/http/app.ts';
import { ApiError } from '../../worker/http/errors.ts';
import { limitBody } from '../../worker/http/body-limit.ts';
import { init } from '../../worker/http/init.ts';
import { expectProblem } from './helpers.ts';

// A route shaped like the real ones, to pin down how the factory treats bad input.
const echo = createRoute({
  method: 'post',
  path: '/echo',
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.strictObject({ name: z.string().min(1), count: z.number().int() }) } },
    },
  },
  responses: { 200: { description: 'ok' } },
});

function testApp(extraEnv: Record<string, unknown> = {}) {
  const app = newApp();
  app.use('*', requestIds, init, limitBody);
  app.openapi(echo, (c) => c.json(c.req.valid('json'), 200));
  app.get('/boom', () => {
    throw new Error('secret internals at /srv/app.ts:12');
  });
  app.get('/teapot', () => {
    throw new ApiError('conflict', 'already there');
  });
  const bindings = { ...env, ...extraEnv };
  return (path: string, init?: RequestInit) => app.request(path, init, bindings);
}

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => ({
  method: 'POST',
  body,
  headers,
});

describe('the app factory', () => {
  it('accepts a valid body', async () => {
    const res = await testApp()('/echo', post('{"name":"a","count":1}'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'a', count: 1 });
  });

  it('rejects malformed JSON', async () => {
    await expectProblem(await testApp()('/echo', post('{"name":')), 400, 'malformed_json');
  });

  it('rejects unknown fields and wrong types with field pointers', async () => {
    const p1 = await expectProblem(await testApp()('/echo', post('{"name":"a","count":1,"admin":true}')), 422, 'validation_failed');
    expect(p1.errors?.[0]?.pointer).toBe('body');
    const p2 = await expectProblem(await testApp()('/echo', post('{"name":"a","count":"1"}')), 422, 'validation_failed');
    expect(p2.errors?.map((e) => e.pointer)).toEqual(['body/count']);
  });

  it('rejects a body that is not JSON', async () => {
    await expectProblem(await testApp()('/echo', post('name=a', { 'content-type': 'text/plain' })), 415, 'unsupported_media_type');
  });

  it('rejects oversized bodies before parsing them', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2_000), count: 1 });
    await expectProblem(await testApp({ MAX_BODY_BYTES: '1024' })('/echo', post(big)), 413, 'payload_too_large');
  });

  it('turns unknown errors into a 500 without internals', async () => {
    const problem = await expectProblem(await testApp()('/boom'), 500, 'internal_error');
    expect(JSON.stringify(problem)).not.toContain('/srv/app.ts');
  });

  it('keeps an ApiError code and status', async () => {
    await expectProblem(await testApp()('/teapot'), 409, 'conflict');
  });

  it('refuses to serve with an invalid environment, naming the variable only in the log', async () => {
    const problem = await expectProblem(await testApp({ DATABASE_URL: 'not a url' })('/teapot'), 500, 'config_invalid');
    expect(problem.detail).not.toContain('DATABASE_URL');
  });
});
