/**
 * The data manifest: per lakehouse table its Delta version, when it last changed and by what, its
 * size, files and rows, and how stale its newest data is (the newest value of the table's event-time
 * column, from the dictionary). DESCRIBE DETAIL and DESCRIBE HISTORY per table, one SELECT for the
 * counts; cached briefly under the tables' versions, so a refresh shows at once.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bundledDictionary } from '../config/bundled.ts';
import type { AppEnv } from '../config/env.ts';
import { DependencyError } from '../http/errors.ts';
import type { DictionaryTable } from '../dictionary/schema.ts';
import { cacheKey, readCache, writeCache } from '../metrics/cache.ts';
import { describeDetail, describeHistory, qualified } from '../services/databricks/metadata.ts';
import { openRun } from './run.ts';
import { adoptVersions, lakehouseTables, versionsOf } from './versions.ts';

/** Long enough to absorb a settings page's reloads; versions in the key make a refresh show at once. */
const MANIFEST_SECONDS = 30;
const METADATA_TIMEOUT_MS = 10_000;

const TableManifestSchema = z
  .object({
    table: z.string(),
    full_name: z.string().openapi({ description: 'catalog.schema.table' }),
    description: z.string().nullable(),
    format: z.string().openapi({ example: 'delta' }),
    version: z.number().int().openapi({ description: 'The Delta version: it changes with every write' }),
    last_modified: z.string().nullable(),
    last_operation: z.object({
      operation: z.string().openapi({ example: 'WRITE' }),
      at: z.string(),
      rows_written: z.number().int().nullable(),
      job_run_id: z.number().nullable().openapi({ description: 'The Databricks job run that wrote it, when a job did' }),
    }),
    size_bytes: z.number().int(),
    files: z.number().int(),
    rows: z.number().int(),
    newest: z.object({
      column: z.string().nullable().openapi({ description: 'The table’s event-time column, from the data dictionary' }),
      at: z.string().nullable(),
    }),
    staleness_seconds: z.number().int().nullable().openapi({ description: 'How long ago the newest row’s event time was (0 when it lies ahead)' }),
  })
  .openapi('TableManifest');

export const ManifestSchema = z
  .object({
    data: z.object({
      tables: z.array(TableManifestSchema),
      newest_data_at: z.string().nullable().openapi({ description: 'The newest event time across the tables' }),
    }),
    meta: z.object({ as_of: z.string(), cache: z.enum(['hit', 'miss', 'bypass']), source: z.literal('databricks'), catalog: z.string(), schema: z.string() }),
  })
  .openapi('DataManifest');
export type Manifest = z.infer<typeof ManifestSchema>;
type TableManifest = z.infer<typeof TableManifestSchema>;

/** The column that says how recent a table's data is: its first required timestamp, else its first required date. */
export function eventTimeColumn(table: DictionaryTable): string | null {
  const required = table.columns.filter((c) => !c.nullable);
  return (
    required.find((c) => c.type.kind === 'TIMESTAMP' || c.type.kind === 'TIMESTAMP_NTZ')?.name ??
    required.find((c) => c.type.kind === 'DATE')?.name ??
    null
  );
}

export async function readManifest(c: Context<AppEnv>): Promise<Manifest> {
  const config = c.get('config');
  const services = c.get('services');
  const client = services.databricks.client;
  if (!client) throw new DependencyError('databricks', 'not_configured', 'Databricks is not configured on this server.');
  const { DATABRICKS_CATALOG: catalog, DATABRICKS_SCHEMA: schema } = config;
  const names = lakehouseTables();
  const meta = { source: 'databricks' as const, catalog, schema };

  const { versions, confirmed } = await versionsOf(services, config, names);
  const key = await cacheKey({ domain: 'manifest', catalog, schema, versions });
  // While the versions cannot be confirmed the lakehouse is in trouble: say so rather than serve a copy.
  const cached = confirmed ? await readCache<{ tables: TableManifest[]; as_of: string }>(services.redis, key) : { value: null, state: 'bypass' as const };
  const now = Date.now();
  const staleness = (at: string | null) => (at === null ? null : Math.max(0, Math.round((now - Date.parse(at)) / 1000)));
  const answer = (tables: TableManifest[], as_of: string, cache: 'hit' | 'miss' | 'bypass'): Manifest => {
    // Staleness is of now, not of when the manifest was read.
    const fresh = tables.map((t) => ({ ...t, staleness_seconds: staleness(t.newest.at) }));
    const newest = fresh.map((t) => t.newest.at).filter((at): at is string => at !== null).sort().at(-1) ?? null;
    return { data: { tables: fresh, newest_data_at: newest }, meta: { ...meta, as_of, cache } };
  };
  if (cached.value) return answer(cached.value.tables, cached.value.as_of, 'hit');

  const dictionary = bundledDictionary();
  const definitions = names.map((name) => dictionary.table(name)!);
  const run = openRun(c);
  const opts = { timeoutMs: METADATA_TIMEOUT_MS };
  // One SELECT for every table's rows and newest event time; DATE columns compare as timestamps.
  const counts = run.statement({
    sql: definitions
      .map((t) => {
        const column = eventTimeColumn(t);
        const newest = column ? `CAST(MAX(${column}) AS TIMESTAMP)` : 'CAST(NULL AS TIMESTAMP)';
        return `SELECT '${t.name}' AS table_name, COUNT(*) AS row_count, ${newest} AS newest FROM ${run.qualify(t.name)}`;
      })
      .join('\nUNION ALL\n'),
    params: {},
  }, METADATA_TIMEOUT_MS);
  const [details, histories, countRows] = await Promise.all([
    Promise.all(names.map((n) => describeDetail(client, qualified(catalog, schema, n), opts))),
    Promise.all(names.map((n) => describeHistory(client, qualified(catalog, schema, n), 1, opts))),
    counts,
  ]);
  const byTable = new Map(countRows.rows.map((r) => [String(r.table_name), r]));

  const tables = definitions.map((t, i): TableManifest => {
    const detail = details[i]!;
    const last = histories[i]![0];
    if (!last) throw new DependencyError('databricks', 'protocol', `DESCRIBE HISTORY of ${t.name} answered no commit`);
    const counted = byTable.get(t.name);
    const written = Number(last.operationMetrics.numOutputRows);
    const newestAt = typeof counted?.newest === 'string' ? counted.newest : null;
    return {
      table: t.name,
      full_name: `${catalog}.${schema}.${t.name}`,
      description: t.description ?? null,
      format: detail.format,
      version: last.version,
      last_modified: detail.lastModified,
      last_operation: {
        operation: last.operation,
        at: last.timestamp,
        rows_written: Number.isInteger(written) ? written : null,
        job_run_id: last.jobRunId && /^\d+$/.test(last.jobRunId) ? Number(last.jobRunId) : null,
      },
      size_bytes: detail.sizeInBytes,
      files: detail.numFiles,
      rows: Number(counted?.row_count ?? 0),
      newest: { column: eventTimeColumn(t), at: newestAt },
      staleness_seconds: staleness(newestAt),
    };
  });
  // What the manifest just read is the freshest word on the versions: the cache keys follow it.
  await adoptVersions(services, config, Object.fromEntries(tables.map((t) => [t.table, t.version])));
  const as_of = new Date().toISOString();
  services.defer(writeCache(services.redis, key, { tables, as_of }, MANIFEST_SECONDS));
  return answer(tables, as_of, cached.state === 'bypass' ? 'bypass' : 'miss');
}
