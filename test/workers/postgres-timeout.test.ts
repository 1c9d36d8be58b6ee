import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../worker/config/env.ts';
import { DependencyError } from '../../worker/http/errors.ts';
import { toProblem } from '../../worker/http/problem.ts';
import { createServices } from '../../worker/services/index.ts';
import { runStatement } from '../../worker/services/statements.ts';

describe('a Postgres statement past its deadline', () => {
  it('is dependency_timeout (504), not postgres_unavailable', async () => {
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const services = createServices(loaded.config);
    try {
      const failure = await runStatement(services, { source: 'postgres', sql: 'SELECT pg_sleep(2) AS value', params: {}, timeoutMs: 150 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(DependencyError);
      expect(failure).toMatchObject({ dependency: 'postgres', kind: 'timeout', details: { sqlState: '57014' } });
      expect(toProblem(failure).code).toBe('dependency_timeout');
    } finally {
      await services.close();
    }
  });
});
