/**
 * Hydration: the lakehouse's quality-signal marts into the application's own tables.
 *
 * fct_signals, fct_contributions and fct_model_drivers are read through the Statement API one
 * result chunk at a time (never the whole result), and written with one `INSERT … ON CONFLICT`
 * per batch of at most BATCH_ROWS rows. Each batch binds one array per column (unnest), so a batch
 * costs about twenty bind parameters whatever its size, far inside Postgres's 65,535.
 *
 * - Analytics columns are refreshed; the workflow columns (status, assignee, notes, their times)
 *   are never written, except a new signal's owner from the ownership rules. A signal's arrival is
 *   its created_at; the trail gets `hydrated` when the marts change a signal already here (and
 *   `severity` or `stale` when those moved).
 * - A row whose analytics are what Postgres already has is not written at all (IS DISTINCT FROM in
 *   the upsert), so a rerun over the same marts changes nothing and reports every row unchanged.
 * - A mart row with a null or malformed column is rejected and counted; the rest is hydrated.
 * - A signal the marts no longer have is marked stale (stale_since), never deleted; only a run
 *   that read all of fct_signals marks anything stale. The ids a run read are written to
 *   signal_hydration_seen by each batch's own statement (rejected rows' ids too), and the rest are
 *   found by an anti-join in Postgres: the run holds no set of ids, so its memory stays flat.
 * - Each batch commits on its own: a run that fails half-way (the lakehouse going down) keeps the
 *   batches it committed, is recorded as failed, and the next run completes the work.
 * - One run at a time: a transaction-scoped advisory lock is held for the length of the run.
 */
import { z } from 'zod';
import { DependencyError, isDependencyError } from '../http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { DatabricksClient } from '../services/databricks/types.ts';
import type { Postgres } from '../services/postgres.ts';
import { ownerEmailFor, resolveOwners } from './ownership.ts';
import type { OwnershipRules } from './ownership.ts';
import { DIRECTIONS, ENTITY_TYPES, HUB_SIGNALS_PER_RUN, SEVERITIES } from './schemas.ts';
import type { HydrationRun, HydrationTrigger } from './schemas.ts';
import { publishSignalUpdates } from './publish.ts';
import type { Bindings } from '../config/env.ts';

/** Rows per INSERT … ON CONFLICT statement. */
export const BATCH_ROWS = 1_000;
export const MARTS_SCHEMA = 'support_marts';
/** The advisory lock every hydration holds (a fixed key in the application's lock space). */
export const HYDRATION_LOCK_KEY = 7_311_540_013;
/** The budget for each mart statement (submit, poll, and every chunk). */
const STATEMENT_BUDGET_MS = 5 * 60_000;
/**
 * Rows per mart statement. An INLINE result may not exceed 25 MiB, so a mart is read in keyset
 * pages well under it (a signal row is about 400 bytes of JSON, a contribution or driver about
 * 100), each page itself arriving chunk by chunk.
 */
export const SIGNAL_PAGE_ROWS = 20_000;
export const CHILD_PAGE_ROWS = 50_000;

/**
 * Batches written at once: reading and checking the next batch overlaps the writes of the last.
 * More does not go faster: with six, each batch took twice as long (measured on the local stack:
 * the writes are bound by the database's CPU, not by waiting on round trips).
 */
export const WRITES_IN_FLIGHT = 3;

/**
 * Writes in flight, at most `limit`: `add` waits for a free slot, and the first failure is thrown
 * by the next `add` or by `drain`, so a failed batch stops the run.
 */
class Writes {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure.error;
    const done: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure.error;
  }

  /** Waits for what is in flight without throwing: a failing run still counts what committed. */
  async settle(): Promise<void> {
    await Promise.all(this.running);
  }
}

/**
 * Reads a whole mart table in keyset pages ordered by `key`, handing every chunk of every page to
 * onRows in order. A row whose key is null sorts last and ends the read (it is rejected anyway).
 */
export async function readMart(
  client: DatabricksClient,
  from: string,
  columns: string,
  key: readonly string[],
  pageRows: number,
  sink: { onRows: (rows: Array<Record<string, unknown>>) => Promise<void> },
): Promise<void> {
  let after: unknown[] | null = null;
  for (;;) {
    const params: Record<string, { value: string; type: 'STRING' }> = {};
    let where = '';
    if (after) {
      // (k0 > a0) OR (k0 = a0 AND k1 > a1) OR …: the rows after the last one read.
      const terms = key.map((_, i) =>
        [...key.slice(0, i).map((k, j) => `${k} = :k${j}`), `${key[i]} > :k${i}`].join(' AND '),
      );
      where = ` WHERE (${terms.map((t) => `(${t})`).join(' OR ')})`;
      after.forEach((v, i) => (params[`k${i}`] = { value: String(v), type: 'STRING' }));
    }
    let read = 0;
    let last: Record<string, unknown> | undefined;
    await client.execute(`SELECT ${columns} FROM ${from}${where} ORDER BY ${key.join(', ')} LIMIT ${Math.trunc(pageRows)}`, params, {
      timeoutMs: STATEMENT_BUDGET_MS,
      onRows: async (rows) => {
        read += rows.length;
        last = rows[rows.length - 1] ?? last;
        await sink.onRows(rows);
      },
    });
    if (read < pageRows || !last) return;
    const next = key.map((k) => last![k]);
    if (next.some((v) => v === null || v === undefined)) return;
    after = next;
  }
}

/** The ids Postgres can hold as a signal's: a read row whose id is anything else cannot keep one fresh. */
const SIGNAL_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const text = (max: number) => z.string().min(1).max(max).refine((s) => !s.includes('\u0000'), 'contains a NUL byte');
const finite = z.number().refine(Number.isFinite, 'is not a finite number');
const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'is not a timestamp');

/** A fct_signals row as the application accepts it; anything else is rejected and counted. */
const MartSignalSchema = z
  .object({
    signal_id: z.string().regex(SIGNAL_ID),
    signal_type: text(64),
    metric_name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
    entity_type: z.enum(ENTITY_TYPES),
    entity_id: text(128),
    entity_label: text(200),
    window_start: instant,
    window_end: instant,
    observed_value: finite,
    expected_value: finite,
    baseline_stddev: finite.refine((v) => v >= 0, 'is negative'),
    z_score: finite,
    direction: z.enum(DIRECTIONS),
    severity: z.enum(SEVERITIES),
    confidence: finite.refine((v) => v >= 0 && v <= 1, 'is not between 0 and 1'),
    narrative: z.string().max(4_000).refine((s) => !s.includes('\u0000'), 'contains a NUL byte'),
    model_run_id: text(128),
    detected_at: instant,
    updated_at: instant,
  })
  .refine((r) => Date.parse(r.window_end) > Date.parse(r.window_start), { message: 'window_end is not after window_start', path: ['window_end'] });
type MartSignal = z.infer<typeof MartSignalSchema>;

const MartContributionSchema = z.object({
  signal_id: z.string().min(1).max(128),
  dimension: text(64),
  dimension_value: text(200),
  contribution: finite,
  contribution_rank: z.number().int().min(1),
});
const MartDriverSchema = z.object({
  signal_id: z.string().min(1).max(128),
  feature: text(64),
  feature_value: z.string().max(200).refine((s) => !s.includes('\u0000'), 'contains a NUL byte'),
  shap_value: finite,
  driver_rank: z.number().int().min(1),
});

export interface HydrateDeps {
  postgres: Pick<Postgres, 'query' | 'transaction'>;
  databricks: DatabricksClient | null;
  /** The catalog the marts live in (DATABRICKS_CATALOG). */
  catalog: string;
  rules: OwnershipRules;
  log: Logger;
  /** For the hub; absent outside the worker (the CLI): the messages then wait in the outbox for the scheduled drain. */
  env?: Bindings;
}

export interface HydrateOptions {
  trigger: HydrationTrigger;
  actorId?: string | null;
  /** Called after each committed batch and phase; awaited, so a caller can act between batches. */
  onProgress?: (progress: Progress) => void | Promise<void>;
  /** Run only when no hydration has succeeded yet and the table is empty (first use). */
  onlyIfEmpty?: boolean;
  /** Rows per mart statement (default SIGNAL_PAGE_ROWS / CHILD_PAGE_ROWS); tests make it small. */
  pageRows?: number;
}

export interface Progress {
  phase: 'signals' | 'contributions' | 'drivers' | 'stale' | 'done';
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
  rejected: number;
}

/** Raised when another hydration holds the lock and the caller asked not to wait. */
export class HydrationBusy extends Error {
  constructor() {
    super('another hydration is running');
    this.name = 'HydrationBusy';
  }
}

const quote = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/**
 * Runs one hydration and answers its recorded summary. Lakehouse or Postgres failures mark the
 * run failed (with what it had committed) and are rethrown as they were.
 */
export async function hydrate(deps: HydrateDeps, options: HydrateOptions): Promise<HydrationRun | null> {
  const { postgres } = deps;
  return postgres.transaction(async (lock) => {
    const [got] = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [HYDRATION_LOCK_KEY]);
    if (options.onlyIfEmpty) {
      // First use: of concurrent requests one takes the lock and hydrates; the others answer what
      // is there without waiting, and later ones find the work done.
      if (!got?.locked) return null;
      const [state] = await lock.query<{ has_signals: boolean; has_run: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM signals) AS has_signals, EXISTS (SELECT 1 FROM signal_hydration_runs WHERE status = 'succeeded') AS has_run`,
      );
      if (state?.has_signals || state?.has_run) return null;
    } else if (!got?.locked) {
      throw new HydrationBusy();
    }
    return runLocked(deps, options);
  });
}

async function runLocked(deps: HydrateDeps, options: HydrateOptions): Promise<HydrationRun> {
  const { postgres, log } = deps;
  const started = Date.now();
  const [run] = await postgres.query<{ id: string }>(`INSERT INTO signal_hydration_runs (trigger, actor_id) VALUES ($1, $2) RETURNING id::text`, [
    options.trigger,
    options.actorId ?? null,
  ]);
  const runId = run!.id;
  const counts = { read: 0, inserted: 0, updated: 0, unchanged: 0, stale: 0, rejected: 0 };
  let modelRunId: string | null = null;
  // The hub hears of the first few changed signals by name (and of the run's counts): only those are kept.
  const changed: string[] = [];
  const noteChanged = (ids: readonly string[]) => {
    for (const id of ids) if (changed.length < HUB_SIGNALS_PER_RUN) changed.push(id);
  };
  // Batches go over a pooled session, each its own short transaction (so each commits on its own).
  // One round trip through Neon's HTTP transaction endpoint (Postgres.batch) instead was measured
  // slower on the local stack, not faster (first run at 20,000 signals: 5.7-7.3 s against 4.9-5.4
  // s): next to the database BEGIN and COMMIT cost almost nothing, while a batch's 1,000 rows of
  // parameters travel as JSON and are unpacked again before they reach it. Over a real network
  // those two round trips weigh more; measure there before moving the batches.
  const writer: Pick<Postgres, 'query'> = {
    query: <T extends Record<string, unknown>>(text: string, params?: unknown[]) => postgres.transaction((tx) => tx.query<T>(text, params)),
  };
  const progress = async (phase: Progress['phase']) => options.onProgress?.({ phase, ...counts, unchanged: counts.read - counts.rejected - counts.inserted - counts.updated });

  try {
    const client = deps.databricks;
    if (!client) throw new DependencyError('databricks', 'not_configured', 'DATABRICKS_HOST/DATABRICKS_TOKEN/DATABRICKS_WAREHOUSE_ID are not set');
    const owners = await resolveOwners(postgres, deps.rules);
    if (owners.unknown.length > 0) log.warn('signal owners who are not active editors or admins are skipped', { owners: owners.unknown });
    const marts = `${quote(deps.catalog)}.${quote(MARTS_SCHEMA)}`;
    // What an earlier run left (one that died before it could empty it) is not this run's.
    await postgres.query('TRUNCATE signal_hydration_seen');

    // fct_signals ---------------------------------------------------------------------------
    let batch: MartSignal[] = [];
    // The ids this batch read, its rejected rows' too: those are present, and must not go stale.
    let seen: string[] = [];
    const writes = new Writes(WRITES_IN_FLIGHT);
    const flushSignals = async () => {
      if (seen.length === 0) return;
      const rows = batch;
      const ids = seen;
      batch = [];
      seen = [];
      await writes.add(async () => {
        const result = await upsertSignals(writer, rows, ids, runId, owners.ids, deps.rules);
        counts.inserted += result.inserted;
        counts.updated += result.updated;
        noteChanged(result.changed);
        await progress('signals');
      });
    };
    try {
      await readMart(client, `${marts}.fct_signals`, '*', ['signal_id'], options.pageRows ?? SIGNAL_PAGE_ROWS, {
        onRows: async (rows) => {
          for (const raw of rows) {
            counts.read++;
            // A rejected row's id (when it could be a signal's) still counts as present: it must not go stale.
            if (typeof raw.signal_id === 'string' && SIGNAL_ID.test(raw.signal_id)) seen.push(raw.signal_id);
            const parsed = MartSignalSchema.safeParse(raw);
            if (!parsed.success) {
              counts.rejected++;
              if (counts.rejected <= 5) log.warn('mart signal rejected', { signal_id: String(raw.signal_id ?? ''), issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
            } else {
              modelRunId ??= parsed.data.model_run_id;
              batch.push(parsed.data);
            }
            if (seen.length >= BATCH_ROWS) await flushSignals();
          }
        },
      });
      await flushSignals();
    } finally {
      await writes.settle();
    }
    // Every signal is written before its contributions and drivers.
    await writes.drain();
    const signalsDone = Date.now();

    // fct_contributions and fct_model_drivers, grouped by signal so a batch holds whole signals --
    // Both marts are read at once and share the writes in flight: while one waits on the lakehouse
    // for its next page, the other's batches are written.
    const childWrites = new Writes(WRITES_IN_FLIGHT);
    const children = await Promise.allSettled([
      hydrateChildren(writer, client, childWrites, `${marts}.fct_contributions`, CONTRIBUTIONS, options.pageRows ?? CHILD_PAGE_ROWS, () => progress('contributions')),
      hydrateChildren(writer, client, childWrites, `${marts}.fct_model_drivers`, DRIVERS, options.pageRows ?? CHILD_PAGE_ROWS, () => progress('drivers')),
    ]);
    await childWrites.settle();
    for (const child of children) if (child.status === 'fulfilled') counts.rejected += child.value;
    for (const child of children) if (child.status === 'rejected') throw child.reason;
    await childWrites.drain();
    const childrenDone = Date.now();

    // Signals the marts no longer have ----------------------------------------------------------
    counts.stale = await markStale(writer, postgres, runId, noteChanged);
    await progress('stale');
    await postgres.query('TRUNCATE signal_hydration_seen');

    counts.unchanged = counts.read - counts.rejected - counts.inserted - counts.updated;
    const [done] = await postgres.query<RunRow>(
      `UPDATE signal_hydration_runs r SET status = 'succeeded', finished_at = clock_timestamp(), model_run_id = $2, read_count = $3, inserted_count = $4,
         updated_count = $5, unchanged_count = $6, stale_count = $7, rejected_count = $8 WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
      [runId, modelRunId, counts.read, counts.inserted, counts.updated, counts.unchanged, counts.stale, counts.rejected],
    );
    await progress('done');
    // Where the run's time went, phase by phase (each phase waits for the one before).
    const phaseMs = { signals: signalsDone - started, children: childrenDone - signalsDone, stale: Date.now() - childrenDone };
    log.info('signals hydrated', { run: runId, trigger: options.trigger, ms: Date.now() - started, phaseMs, ...counts });
    await publishSignalUpdates(deps.env, postgres, log, { changedSignalIds: changed, run: { id: runId, ...counts } });
    return toRun(done!);
  } catch (error) {
    counts.unchanged = Math.max(0, counts.read - counts.rejected - counts.inserted - counts.updated);
    const message = isDependencyError(error) ? `${error.dependency} ${error.kind}: ${error.message}` : error instanceof Error ? error.message : String(error);
    log.warn('signal hydration failed', { run: runId, error });
    // Nothing is marked from a failed run's ids; the next run empties the table anyway.
    await postgres.query('TRUNCATE signal_hydration_seen').catch(() => undefined);
    await postgres
      .query(
        `UPDATE signal_hydration_runs SET status = 'failed', finished_at = clock_timestamp(), error = $2, model_run_id = $3, read_count = $4, inserted_count = $5,
           updated_count = $6, unchanged_count = $7, rejected_count = $8 WHERE id = $1`,
        [runId, message.slice(0, 2_000), modelRunId, counts.read, counts.inserted, counts.updated, counts.unchanged, counts.rejected],
      )
      .catch((err: unknown) => log.error('could not record the failed hydration', { run: runId, error: err }));
    throw error;
  }
}

/** One batch of signals: insert the new, refresh the changed, leave the rest untouched. */
async function upsertSignals(
  postgres: Pick<Postgres, 'query'>,
  rows: readonly MartSignal[],
  seen: readonly string[],
  runId: string,
  ownerIds: ReadonlyMap<string, string>,
  rules: OwnershipRules,
): Promise<{ inserted: number; updated: number; changed: string[] }> {
  const col = <K extends keyof MartSignal>(k: K) => rows.map((r) => r[k]);
  const owners = rows.map((r) => {
    const email = ownerEmailFor(rules, r);
    return email ? (ownerIds.get(email) ?? null) : null;
  });
  const result = await postgres.query<{ id: string; inserted: boolean }>(
    `WITH incoming AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[],
         $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::text[], $14::text[], $15::float8[], $16::text[], $17::text[],
         $18::timestamptz[], $19::timestamptz[], $20::uuid[])
         AS t(id, signal_type, metric_name, entity_type, entity_id, entity_label, window_start, window_end, observed_value, expected_value,
              baseline_stddev, z_score, direction, severity, confidence, narrative, model_run_id, detected_at, mart_updated_at, owner)),
     -- The rows as they were (the statement's snapshot; analytics columns change only under the
     -- hydration lock), found through the primary key: a join to the batch would scan the table.
     prev AS (SELECT s.id, s.severity, s.stale_since, s.model_run_id FROM signals s WHERE s.id = ANY($1::text[])),
     up AS (
       INSERT INTO signals AS s (id, signal_type, metric_name, entity_type, entity_id, entity_label, window_start, window_end, observed_value,
         expected_value, baseline_stddev, z_score, direction, severity, confidence, narrative, model_run_id, detected_at, mart_updated_at,
         assignee, assigned_by)
       SELECT id, signal_type, metric_name, entity_type, entity_id, entity_label, window_start, window_end, observed_value, expected_value,
         baseline_stddev, z_score, direction, severity, confidence, narrative, model_run_id, detected_at, mart_updated_at,
         owner, CASE WHEN owner IS NULL THEN NULL ELSE 'rule' END
       FROM incoming
       ON CONFLICT (id) DO UPDATE SET
         signal_type = EXCLUDED.signal_type, metric_name = EXCLUDED.metric_name, entity_type = EXCLUDED.entity_type, entity_id = EXCLUDED.entity_id,
         entity_label = EXCLUDED.entity_label, window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
         observed_value = EXCLUDED.observed_value, expected_value = EXCLUDED.expected_value, baseline_stddev = EXCLUDED.baseline_stddev,
         z_score = EXCLUDED.z_score, direction = EXCLUDED.direction, severity = EXCLUDED.severity, confidence = EXCLUDED.confidence,
         narrative = EXCLUDED.narrative, model_run_id = EXCLUDED.model_run_id, detected_at = EXCLUDED.detected_at,
         mart_updated_at = EXCLUDED.mart_updated_at, stale_since = NULL, version = s.version + 1, updated_at = now()
       -- The build id and the mart's own timestamp move with every build; only a change in what the signal says is a change.
       WHERE (s.signal_type, s.metric_name, s.entity_type, s.entity_id, s.entity_label, s.window_start, s.window_end, s.observed_value,
              s.expected_value, s.baseline_stddev, s.z_score, s.direction, s.severity, s.confidence, s.narrative, s.detected_at, s.stale_since IS NULL)
         IS DISTINCT FROM
             (EXCLUDED.signal_type, EXCLUDED.metric_name, EXCLUDED.entity_type, EXCLUDED.entity_id, EXCLUDED.entity_label, EXCLUDED.window_start,
              EXCLUDED.window_end, EXCLUDED.observed_value, EXCLUDED.expected_value, EXCLUDED.baseline_stddev, EXCLUDED.z_score, EXCLUDED.direction,
              EXCLUDED.severity, EXCLUDED.confidence, EXCLUDED.narrative, EXCLUDED.detected_at, true)
       RETURNING s.id, s.xmax = 0 AS inserted, s.severity, s.assignee, s.model_run_id),
     trail AS (
       INSERT INTO signal_activity (signal_id, actor_id, kind, from_value, to_value)
       SELECT up.id, NULL::uuid, 'hydrated', prev.model_run_id, up.model_run_id FROM up JOIN prev USING (id)
       UNION ALL
       SELECT up.id, NULL::uuid, 'assignee', NULL::text, up.assignee::text FROM up WHERE up.inserted AND up.assignee IS NOT NULL
       UNION ALL
       SELECT up.id, NULL::uuid, 'severity', prev.severity, up.severity FROM up JOIN prev USING (id) WHERE prev.severity <> up.severity
       UNION ALL
       SELECT up.id, NULL::uuid, 'stale', 'stale', 'fresh' FROM up JOIN prev USING (id) WHERE prev.stale_since IS NOT NULL
       RETURNING 1),
     seen AS (INSERT INTO signal_hydration_seen (run_id, id) SELECT $22::bigint, unnest($21::text[]) RETURNING 1)
     SELECT id, inserted FROM up`,
    [
      col('signal_id'), col('signal_type'), col('metric_name'), col('entity_type'), col('entity_id'), col('entity_label'), col('window_start'),
      col('window_end'), col('observed_value'), col('expected_value'), col('baseline_stddev'), col('z_score'), col('direction'), col('severity'),
      col('confidence'), col('narrative'), col('model_run_id'), col('detected_at'), col('updated_at'), owners, seen, runId,
    ],
  );
  const inserted = result.filter((r) => r.inserted).length;
  return { inserted, updated: result.length - inserted, changed: result.filter((r) => !r.inserted).map((r) => r.id) };
}

interface ChildTable {
  table: 'signal_contributions' | 'signal_drivers';
  schema: z.ZodType<Record<string, unknown>>;
  /** Mart columns in the order the upsert binds them. */
  columns: readonly string[];
  /** Postgres columns, in the same order, and their array types. */
  target: readonly string[];
  types: readonly string[];
  /** The key within one signal, in Postgres and in the mart. */
  key: readonly string[];
  martKey: readonly string[];
  /** Columns refreshed on conflict. */
  values: readonly string[];
}

const CONTRIBUTIONS: ChildTable = {
  table: 'signal_contributions',
  schema: MartContributionSchema as z.ZodType<Record<string, unknown>>,
  columns: ['signal_id', 'dimension', 'dimension_value', 'contribution', 'contribution_rank'],
  target: ['signal_id', 'dimension', 'dimension_value', 'contribution', 'rank'],
  types: ['text', 'text', 'text', 'float8', 'int4'],
  key: ['dimension', 'dimension_value'],
  martKey: ['dimension', 'dimension_value'],
  values: ['contribution', 'rank'],
};
const DRIVERS: ChildTable = {
  table: 'signal_drivers',
  schema: MartDriverSchema as z.ZodType<Record<string, unknown>>,
  columns: ['signal_id', 'feature', 'feature_value', 'shap_value', 'driver_rank'],
  target: ['signal_id', 'feature', 'feature_value', 'shap_value', 'rank'],
  types: ['text', 'text', 'text', 'float8', 'int4'],
  key: ['feature'],
  martKey: ['feature'],
  values: ['feature_value', 'shap_value', 'rank'],
};

/**
 * Streams a child mart ordered by signal, and writes whole signals per batch: their rows are
 * upserted (unchanged ones untouched) and rows the mart no longer has for them are deleted. Rows
 * of signals Postgres does not have (rejected ones) are skipped. Answers the rejected row count.
 */
async function hydrateChildren(
  postgres: Pick<Postgres, 'query'>,
  client: DatabricksClient,
  writes: Writes,
  from: string,
  child: ChildTable,
  pageRows: number,
  onBatch: () => Promise<void>,
): Promise<number> {
  let rejected = 0;
  let pending: Array<Record<string, unknown>> = [];
  let currentSignal: string | null = null;
  let groupStart = 0;
  const flush = (rows: Array<Record<string, unknown>>) => (rows.length === 0 ? Promise.resolve() : writes.add(() => write(rows)));
  const write = async (rows: Array<Record<string, unknown>>) => {
    const arrays = [...child.columns.map((c) => rows.map((r) => r[c])), [...new Set(rows.map((r) => r.signal_id as string))]];
    const params = child.target.map((_, i) => `$${i + 1}::${child.types[i]}[]`).join(', ');
    const key = ['signal_id', ...child.key];
    const ids = `$${child.target.length + 1}::text[]`;
    // Both lookups go through a primary key whatever the table's size: the batch's signals by id
    // (an EXISTS per row was planned as a hash of every signal), and its rows by id within the
    // batch's id range (a bare ANY was planned as a scan of the whole child table while its
    // statistics said it was small); either made each batch cost more as the tables grew.
    await postgres.query(
      `WITH known AS (SELECT s.id FROM signals s WHERE s.id = ANY(${ids})),
       incoming AS (
         SELECT t.* FROM unnest(${params}) AS t(${child.target.join(', ')})
         WHERE t.signal_id IN (SELECT id FROM known)),
       gone AS (
         DELETE FROM ${child.table} c WHERE c.signal_id = ANY(${ids})
           AND c.signal_id BETWEEN (SELECT min(b.id) FROM unnest(${ids}) AS b(id)) AND (SELECT max(b.id) FROM unnest(${ids}) AS b(id))
           AND (${key.map((k) => `c.${k}`).join(', ')}) NOT IN (SELECT ${key.join(', ')} FROM incoming) RETURNING 1)
       INSERT INTO ${child.table} AS c (${child.target.join(', ')}) SELECT ${child.target.join(', ')} FROM incoming
       ON CONFLICT (signal_id, ${child.key.join(', ')}) DO UPDATE SET ${child.values.map((v) => `${v} = EXCLUDED.${v}`).join(', ')}
       WHERE (${child.values.map((v) => `c.${v}`).join(', ')}) IS DISTINCT FROM (${child.values.map((v) => `EXCLUDED.${v}`).join(', ')})`,
      arrays,
    );
    await onBatch();
  };
  try {
    await readMart(client, from, child.columns.join(', '), ['signal_id', ...child.martKey], pageRows, {
      onRows: async (rows) => {
        for (const raw of rows) {
          const parsed = child.schema.safeParse(raw);
          if (!parsed.success) {
            rejected++;
            continue;
          }
          const row = parsed.data;
          if (row.signal_id !== currentSignal) {
            currentSignal = row.signal_id as string;
            groupStart = pending.length;
            // A batch ends at a signal boundary once it is full, so each signal's rows land together.
            if (pending.length >= BATCH_ROWS - 50) {
              await flush(pending);
              pending = [];
              groupStart = 0;
            }
          }
          if (pending.length >= BATCH_ROWS) {
            const complete = pending.slice(0, groupStart);
            if (complete.length === 0) {
              // One signal with more rows than a batch holds: a batch is a signal's whole set (it
              // replaces what was there), so the rows past it are rejected.
              rejected++;
              continue;
            }
            // Write the complete signals; the open one carries over.
            await flush(complete);
            pending = pending.slice(groupStart);
            groupStart = 0;
          }
          pending.push(row);
        }
      },
    });
    await flush(pending);
  } finally {
    await writes.settle();
  }
  return rejected;
}

/**
 * Marks stale every live signal this run did not read, a thousand at a time in id order (each
 * statement commits on its own and stays short); answers how many, handing their ids to onMarked.
 */
async function markStale(
  writer: Pick<Postgres, 'query'>,
  postgres: Pick<Postgres, 'query'>,
  runId: string,
  onMarked: (ids: readonly string[]) => void,
): Promise<number> {
  // Fresh statistics, so the anti-join is planned as the hash join it should be.
  await postgres.query('ANALYZE signal_hydration_seen');
  let marked = 0;
  let after = '';
  for (;;) {
    const rows = await writer.query<{ id: string | null; last: string | null; examined: number }>(
      `WITH missing AS (
         SELECT s.id FROM signals s
         WHERE s.stale_since IS NULL AND s.id > $2
           AND NOT EXISTS (SELECT 1 FROM signal_hydration_seen x WHERE x.run_id = $1::bigint AND x.id = s.id)
         ORDER BY s.id LIMIT ${BATCH_ROWS}),
       gone AS (
         UPDATE signals s SET stale_since = now(), version = s.version + 1, updated_at = now()
         FROM missing m WHERE s.id = m.id AND s.stale_since IS NULL RETURNING s.id),
       trail AS (INSERT INTO signal_activity (signal_id, actor_id, kind, from_value, to_value) SELECT id, NULL::uuid, 'stale', 'fresh', 'stale' FROM gone RETURNING 1)
       -- One row even when none went: the last id examined carries the scan on.
       SELECT gone.id, (SELECT MAX(id) FROM missing) AS last, (SELECT COUNT(*) FROM missing)::int AS examined FROM (SELECT NULL) one LEFT JOIN gone ON true ORDER BY gone.id`,
      [runId, after],
    );
    const ids = rows.flatMap((r) => (r.id === null ? [] : [r.id]));
    marked += ids.length;
    onMarked(ids);
    const last = rows[0]?.last;
    if (!last || Number(rows[0]!.examined) < BATCH_ROWS) return marked;
    after = last;
  }
}

export const RUN_COLUMNS = `r.id::text AS id, r.trigger, r.status, r.model_run_id, r.started_at, r.finished_at, r.read_count, r.inserted_count, r.updated_count,
  r.unchanged_count, r.stale_count, r.rejected_count, r.error,
  (SELECT json_build_object('id', u.id, 'email', u.email, 'name', u.name) FROM users u WHERE u.id = r.actor_id) AS actor`;

export type RunRow = {
  id: string;
  trigger: HydrationRun['trigger'];
  status: HydrationRun['status'];
  model_run_id: string | null;
  started_at: Date | string;
  finished_at: Date | string | null;
  read_count: number;
  inserted_count: number;
  updated_count: number;
  unchanged_count: number;
  stale_count: number;
  rejected_count: number;
  error: string | null;
  actor: unknown;
};

export function toRun(r: RunRow): HydrationRun {
  const iso = (v: Date | string) => new Date(v).toISOString();
  const actor = typeof r.actor === 'string' ? JSON.parse(r.actor) : r.actor;
  return {
    id: r.id,
    trigger: r.trigger,
    actor: actor ?? null,
    status: r.status,
    model_run_id: r.model_run_id,
    started_at: iso(r.started_at),
    finished_at: r.finished_at === null ? null : iso(r.finished_at),
    duration_ms: r.finished_at === null ? null : new Date(r.finished_at).getTime() - new Date(r.started_at).getTime(),
    read: r.read_count,
    inserted: r.inserted_count,
    updated: r.updated_count,
    unchanged: r.unchanged_count,
    stale: r.stale_count,
    rejected: r.rejected_count,
    error: r.error,
  };
}
