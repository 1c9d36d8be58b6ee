import { Redis } from 'ioredis';
import { connectionOptions, pingWithin } from './redis-backend.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Whether a Redis at `url` answers PING within `timeoutMs` in all. Never throws. */
export async function detectRedis(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let probe: Redis;
  try {
    // One attempt only: a probe that keeps reconnecting would outlive its answer.
    probe = new Redis(url, { ...connectionOptions(timeoutMs), retryStrategy: () => null });
  } catch {
    return false;
  }
  probe.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const connected = await Promise.race([
      probe.connect().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, false);
      }),
    ]);
    return connected && (await pingWithin(probe, Math.max(deadline - Date.now(), 1)));
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
}
