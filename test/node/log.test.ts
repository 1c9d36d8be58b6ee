import { describe, expect, it } from 'vitest';
import { captureLogs, createLogger } from '../../worker/lib/log.ts';

function capture(run: () => void): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const restore = captureLogs((entry) => lines.push(entry));
  try {
    run();
  } finally {
    restore();
  }
  return lines;
}

describe('the structured logger', () => {
  it('writes one object per line with level, message and the bound request fields', () => {
    let route = '*';
    const log = createLogger(() => ({ request_id: 'req-1', route }));
    const lines = capture(() => {
      route = '/v1/widgets/:id/data';
      log.child({ metric: 'csat_avg' }).warn('live source failed', { source: 'databricks' });
    });
    expect(lines).toEqual([
      { level: 'warn', msg: 'live source failed', request_id: 'req-1', route: '/v1/widgets/:id/data', metric: 'csat_avg', source: 'databricks' },
    ]);
  });

  it('never writes a credential, at any depth', () => {
    const lines = capture(() =>
      createLogger({ request_id: 'r' }).error('x', {
        authorization: 'Bearer abc',
        nested: { DATABRICKS_TOKEN: 'dapi123', password_hash: 'h', session_secret: 's', ok: 'kept' },
      }),
    );
    const text = JSON.stringify(lines);
    for (const secret of ['abc', 'dapi123', '"h"', '"s"']) expect(text).not.toContain(secret);
    expect(text).toContain('kept');
  });

  it('reduces errors to name, capped message and stable codes, without the stack', () => {
    const err = Object.assign(new Error('x'.repeat(2_000)), { kind: 'timeout', dependency: 'postgres' });
    const [line] = capture(() => createLogger().error('failed', { error: err }));
    const logged = line!.error as Record<string, unknown>;
    expect(logged).toMatchObject({ name: 'Error', kind: 'timeout', dependency: 'postgres' });
    expect((logged.message as string).length).toBeLessThanOrEqual(501);
    expect(JSON.stringify(line)).not.toContain('at ');
  });
});
