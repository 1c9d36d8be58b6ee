import { env } from 'cloudflare:workers';
import { loadConfig } from '../../worker/config/env.ts';
import type { Config } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import type { Postgres } from '../../worker/services/postgres.ts';
import type { Status } from '../../worker/signals/schemas.ts';

export function configWith(extra: Record<string, string> = {}): Config {
  const loaded = loadConfig({ ...env, ...extra });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.config;
}

export function database(extra: Record<string, string> = {}): Postgres {
  return createPostgres(configWith(extra));
}

export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export interface FixtureSignal {
  id?: string;
  status?: Status;
  severity?: string;
  metric_name?: string;
  entity_type?: string;
  entity_id?: string;
  detected_at?: string;
  assignee?: string | null;
}

/**
 * Signals of a test's own, under a unique prefix. They are inserted stale (as if their mart rows
 * were gone): a hydration elsewhere in the run then leaves them alone, since it only refreshes the
 * marts' ids and only marks live signals stale.
 */
export async function insertSignals(db: Pick<Postgres, 'query'>, prefix: string, signals: FixtureSignal[]): Promise<string[]> {
  const ids = signals.map((s, i) => s.id ?? `${prefix}-${i}`);
  const base = Date.parse('2026-01-01T00:00:00Z');
  await db.query(
    `INSERT INTO signals (id, signal_type, metric_name, entity_type, entity_id, entity_label, window_start, window_end, observed_value, expected_value,
       baseline_stddev, z_score, direction, severity, confidence, narrative, model_run_id, detected_at, mart_updated_at, status, assignee, assigned_by, stale_since)
     SELECT t.id, 'anomaly', t.metric, t.entity_type, t.entity_id, t.entity_id, t.detected - interval '1 day', t.detected, 42, 30, 4, 3, 'up', t.severity, 0.8,
       'Fixture signal', 'fixture-run', t.detected, t.detected, t.status, t.assignee, CASE WHEN t.assignee IS NULL THEN NULL ELSE 'person' END, now()
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::uuid[])
       AS t(id, metric, entity_type, entity_id, severity, detected, status, assignee)`,
    [
      ids,
      signals.map((s) => s.metric_name ?? 'claim_volume'),
      signals.map((s) => s.entity_type ?? 'region'),
      signals.map((s) => s.entity_id ?? `${prefix}-entity`),
      signals.map((s) => s.severity ?? 'high'),
      signals.map((s, i) => s.detected_at ?? new Date(base + i * 60_000).toISOString()),
      signals.map((s) => s.status ?? 'new'),
      signals.map((s) => s.assignee ?? null),
    ],
  );
  return ids;
}

/** Removes a test's signals with their trail (the purge the append-only trigger allows). */
export async function purgeSignals(db: Pick<Postgres, 'transaction'>, prefix: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL cc.signal_purge = 'on'`);
    await tx.query(`DELETE FROM signals WHERE id LIKE $1`, [`${prefix.replace(/[%_\\]/g, '\\$&')}-%`]);
  });
}

export async function userId(db: Pick<Postgres, 'query'>, email: string): Promise<string> {
  const [row] = await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
  if (!row) throw new Error(`no user ${email}`);
  return row.id;
}
