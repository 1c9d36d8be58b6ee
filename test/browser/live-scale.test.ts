import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../scripts/dev-server.ts';
import type { DevServer } from '../../scripts/dev-server.ts';
import { freePort } from '../stack/postgres/index.ts';
import { SHOTS, openSession, signInTo, user } from './harness.ts';
import { ACK_INTERVAL_MS } from '../../durable-objects/protocol.ts';

/**
 * The promise to a support leader, under load: an event shows on two open dashboards within a
 * second while a bench client holds a thousand more sockets on the same dashboard. Sockets are
 * spread over edges of 250, so the dashboards and the bench sockets sit on several edges.
 */
const EXTRA_SOCKETS = 1_000;

let server: DevServer;
let browser: Browser;
const held: WebSocket[] = [];
const received = new Map<WebSocket, Set<string>>();

beforeAll(async () => {
  server = await startDevServer({
    port: await freePort(),
    purpose: 'browser',
    vars: { SIGNIN_LIMIT_PER_EMAIL: '200', SIGNIN_LIMIT_PER_IP: '500', BUILDER_MODE: 'offline', HUB_SOCKETS_PER_EDGE: '250', USER_RATE_LIMITS: 'off' },
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  for (const ws of held) ws.terminate();
  await browser?.close();
  await server?.close();
});

async function token(role: 'editor' | 'viewer'): Promise<string> {
  const res = await fetch(`${server.url}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user(role).email, password: user(role).password }),
  });
  return ((await res.json()) as { token: string }).token;
}

/** Bench sockets that behave as the protocol asks: they ack what they applied every ack_ms. */
async function holdSockets(count: number, bearer: string): Promise<void> {
  const url = `${server.url.replace(/^http/, 'ws')}/v1/dashboard/stream`;
  let started = 0;
  const opener = async () => {
    while (started < count) {
      started++;
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${bearer}` }, perMessageDeflate: false });
      const seen = new Set<string>();
      received.set(ws, seen);
      let last = 0;
      let acked = 0;
      let ackMs = ACK_INTERVAL_MS;
      ws.on('message', (raw) => {
        const frame = JSON.parse(String(raw)) as { type: string; seq: number; ack_ms?: number; messages?: Array<{ type: string; seq: number; data?: { event_id?: string } }>; data?: { event_id?: string } };
        if (frame.type === 'hello') {
          last = acked = frame.seq;
          ackMs = frame.ack_ms ?? ackMs;
          setInterval(() => {
            if (last > acked && ws.readyState === WebSocket.OPEN) {
              ws.send(`{"type":"ack","seq":${last}}`);
              acked = last;
            }
          }, ackMs).unref();
          return;
        }
        for (const m of frame.type === 'batch' ? (frame.messages ?? []) : [frame]) {
          last = Math.max(last, m.seq ?? 0);
          if (m.type === 'event' && m.data?.event_id) seen.add(m.data.event_id);
        }
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('bench socket did not open')), 30_000);
        ws.once('message', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      held.push(ws);
    }
  };
  await Promise.all(Array.from({ length: 20 }, opener));
}

describe('live at scale', () => {
  it(`shows an event on two dashboards within a second while ${EXTRA_SOCKETS} more sockets watch the same hub`, { timeout: 240_000 }, async () => {
    await holdSockets(EXTRA_SOCKETS, await token('viewer'));
    expect(held.filter((ws) => ws.readyState === WebSocket.OPEN)).toHaveLength(EXTRA_SOCKETS);
    const a = await openSession(browser, { viewport: { width: 1280, height: 900 } });
    const b = await openSession(browser, { viewport: { width: 1280, height: 900 } });
    for (const [s, role] of [
      [a, 'editor'],
      [b, 'viewer'],
    ] as const) {
      await signInTo(server, s, role, '/');
      await s.page.waitForLoadState('networkidle');
      await s.page.waitForSelector('[data-testid="connection"][data-state="live"]');
    }
    const editor = await token('editor');
    const eventId = `scale-browser-${Date.now()}`;
    const sent = Date.now();
    const res = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        event_id: eventId,
        type: 'claim.filed',
        occurred_at: new Date().toISOString(),
        data: { claim_id: `KS${Date.now()}`, customer_id: 'C00042', product: 'Device Care', claim_type: 'damage', region: 'APAC', claim_cost: 199, cost_avoided: 80 },
      }),
    });
    expect(res.status).toBe(200);
    await Promise.all(
      [a, b].map((s) =>
        s.page.waitForFunction(() => document.querySelector('[data-testid="event-feed"]')?.textContent?.includes('Claim filed · Device Care · APAC · $80 avoided'), null, {
          timeout: 1_000,
        }),
      ),
    );
    const onScreen = Date.now() - sent;
    console.log(`event on two dashboards after ${onScreen} ms with ${EXTRA_SOCKETS} more sockets`);
    expect(onScreen).toBeLessThan(1_000);
    await a.page.screenshot({ path: path.join(SHOTS, 'live-scale.png') });
    // Every bench socket got it too, once.
    const deadline = Date.now() + 10_000;
    while ([...received.values()].some((seen) => !seen.has(eventId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([...received.values()].filter((seen) => seen.has(eventId))).toHaveLength(EXTRA_SOCKETS);
    expect([...a.errors, ...b.errors]).toEqual([]);
    await a.context.close();
    await b.context.close();
  });
});
