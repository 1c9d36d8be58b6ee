import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for a Slack incoming webhook: answers `ok` like Slack and records every
 * payload, so tests (and a developer, at GET /received) see what the communication agent sent.
 * `POST /fail {"times": n}` makes the next n deliveries answer 500, to exercise retries.
 */
export interface WebhookReceiver {
  /** Where the worker posts (INCIDENT_WEBHOOK_URL). */
  url: string;
  /** Base URL of the receiver: GET /received, POST /fail, POST /clear. */
  base: string;
  received(): Array<{ at: string; path: string; body: unknown }>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Array<{ at: string; path: string; body: unknown }> = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const answer = (status: number, body: string, type = 'text/plain') => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      if (req.method === 'GET' && url.pathname === '/received') return answer(200, JSON.stringify({ received }), 'application/json');
      if (req.method === 'POST' && url.pathname === '/fail') {
        failures = Math.max(0, Number((JSON.parse(text || '{}') as { times?: number }).times ?? 1));
        return answer(204, '');
      }
      if (req.method === 'POST' && url.pathname === '/clear') {
        received.length = 0;
        return answer(204, '');
      }
      if (req.method === 'POST' && url.pathname.startsWith('/hooks/')) {
        if (failures > 0) {
          failures--;
          return answer(500, 'internal_error');
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return answer(400, 'invalid_payload');
        }
        // Slack refuses a payload without text; so does this.
        if (typeof (body as { text?: unknown }).text !== 'string') return answer(400, 'no_text');
        received.push({ at: new Date().toISOString(), path: url.pathname, body });
        return answer(200, 'ok');
      }
      return answer(404, 'no_service');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/hooks/incidents`,
    base,
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
