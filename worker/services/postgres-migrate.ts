/**
 * The one migration runner, used by `npm run db:migrate`, the test setup, `npm run dev` and
 * deploy. Migrations are the numbered SQL files in migrations/; each runs once, in order, in
 * its own transaction, and an applied file that later changes is refused rather than ignored.
 */

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

/** The subset of a pg/Neon client the runner needs. */
export interface MigrationClient {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same for every runner of this schema.
const LOCK_KEY = 7_413_002;

export function parseMigrationFile(fileName: string, sql: string): Migration {
  const match = FILE_PATTERN.exec(fileName);
  if (!match) throw new Error(`migration file name ${fileName} does not match NNNN_name.sql`);
  return { version: match[1]!, name: match[2]!, sql };
}

export async function checksum(sql: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(sql));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function migrate(client: MigrationClient, migrations: Migration[]): Promise<MigrationReport> {
  const sorted = [...migrations].sort((a, b) => a.version.localeCompare(b.version));
  const versions = new Set<string>();
  for (const m of sorted) {
    if (versions.has(m.version)) throw new Error(`two migrations share version ${m.version}`);
    versions.add(m.version);
  }

  // Concurrent runners (two dev servers, parallel CI jobs) queue here instead of racing.
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query('SELECT version, name, checksum FROM schema_migrations');
    const applied = new Map(rows.map((r) => [String(r.version), String(r.checksum)]));
    const report: MigrationReport = { applied: [], skipped: [] };

    for (const m of sorted) {
      const sum = await checksum(m.sql);
      const previous = applied.get(m.version);
      if (previous !== undefined) {
        if (previous !== sum) {
          throw new Error(
            `migration ${m.version}_${m.name} changed after it was applied; add a new migration instead of editing it`,
          );
        }
        report.skipped.push(`${m.version}_${m.name}`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, sum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`migration ${m.version}_${m.name} failed and was rolled back: ${reason}`, { cause: err });
      }
      report.applied.push(`${m.version}_${m.name}`);
    }
    return report;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
  }
}
