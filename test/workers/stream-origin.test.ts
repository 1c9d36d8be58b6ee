import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sessionToken } from './helpers.ts';

// A page on another site can open a WebSocket to us and the browser sends our cookie with it.
async function upgrade(origin: string | null) {
  const headers: Record<string, string> = { upgrade: 'websocket', cookie: `cc_session=${await sessionToken('viewer')}` };
  if (origin) headers.origin = origin;
  return exports.default.fetch(new Request('http://cc.test/v1/dashboard/stream?dashboard=default', { headers }));
}

describe('stream upgrades carrying the session cookie', () => {
  it('are refused from another origin', async () => {
    const res = await upgrade('https://evil.example');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('forbidden');
  });

  it('are accepted from this origin', async () => {
    const res = await upgrade('http://cc.test');
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close(1000, 'done');
  });
});
