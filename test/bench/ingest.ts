import { createRequire } from 'node:module';
import type WebSocket from 'ws';

const { WebSocket: WS } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface IngestReport {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  received: number;
  lost: number;
  outOfOrder: number;
}

/**
 * Ingest throughput with zero loss: batches of `alert.opened` events through POST /v1/events
 * while one subscriber on the same hub counts every event frame it receives, in seq order.
 */
export async function benchIngest(url: string, token: string, dashboard: string, options: { batches: number; batchSize: number }): Promise<IngestReport> {
  const ws: WebSocket = new WS(`${url.replace('http', 'ws')}/v1/dashboard/stream?dashboard=${dashboard}`, { headers: { authorization: `Bearer ${token}` } });
  const seen: number[] = [];
  let eventFrames = 0;
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as { type: string; seq: number; messages?: Array<{ type: string; seq: number }> };
    const frames = msg.type === 'batch' ? (msg.messages ?? []) : [msg];
    for (const m of frames) {
      if (m.type !== 'event') continue;
      eventFrames++;
      seen.push(m.seq);
    }
    if (frames.length > 0 && msg.type !== 'hello') ws.send(JSON.stringify({ type: 'ack', seq: msg.seq }));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  const total = options.batches * options.batchSize;
  const started = performance.now();
  for (let b = 0; b < options.batches; b++) {
    const events = Array.from({ length: options.batchSize }, (_, i) => ({
      event_id: `${dashboard}-${b}-${i}`,
      type: 'alert.opened',
      occurred_at: new Date().toISOString(),
      data: { alert_id: `${dashboard}-${b}-${i}`, severity: 'info', title: 'bench alert' },
    }));
    const res = await fetch(`${url}/v1/events?dashboard=${dashboard}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  const seconds = (performance.now() - started) / 1000;
  const deadline = Date.now() + 10_000;
  while (eventFrames < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  ws.close();
  let outOfOrder = 0;
  for (let i = 1; i < seen.length; i++) if (seen[i]! <= seen[i - 1]!) outOfOrder++;
  return { events: total, seconds, eventsPerSecond: total / seconds, received: eventFrames, lost: total - eventFrames, outOfOrder };
}
