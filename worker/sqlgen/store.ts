import { z } from '@hono/zod-openapi';
import type { Postgres } from '../services/postgres.ts';

type Db = Pick<Postgres, 'query'>;

export const GenerationRecordSchema = z
  .object({
    id: z.string(),
    user_id: z.string().nullable(),
    metric: z.string(),
    question: z.string().nullable(),
    prompt_digest: z.string(),
    model: z.string().nullable(),
    sql: z.string().nullable(),
    verdict: z.string().openapi({ description: '`ok`, the safety code the API reported, or `llm_unavailable`' }),
    detail: z.string().nullable(),
    source: z.enum(['bedrock', 'template']),
    dry_run: z.boolean(),
    latency_ms: z.number().int(),
    created_at: z.string(),
  })
  .openapi('SqlGenerationRecord');
export type GenerationRecord = z.infer<typeof GenerationRecordSchema>;

export interface NewGeneration {
  userId: string;
  metric: string;
  question: string | null;
  promptDigest: string;
  model: string | null;
  sql: string | null;
  verdict: string;
  detail: string | null;
  source: 'bedrock' | 'template';
  dryRun: boolean;
  latencyMs: number;
}

interface GenerationRow extends Record<string, unknown> {
  id: string;
  user_id: string | null;
  metric_name: string;
  question: string | null;
  prompt_digest: string;
  model: string | null;
  sql: string | null;
  verdict: string;
  detail: string | null;
  source: string;
  dry_run: boolean;
  latency_ms: number;
  created_at: Date | string;
}

const COLUMNS = 'id, user_id, metric_name, question, prompt_digest, model, sql, verdict, detail, source, dry_run, latency_ms, created_at';

function toRecord(row: GenerationRow): GenerationRecord {
  return GenerationRecordSchema.parse({
    ...row,
    metric: row.metric_name,
    created_at: new Date(row.created_at).toISOString(),
  });
}

export async function recordGeneration(db: Db, g: NewGeneration): Promise<GenerationRecord> {
  const rows = await db.query<GenerationRow>(
    `INSERT INTO sql_generations (user_id, metric_name, question, prompt_digest, model, sql, verdict, detail, source, dry_run, latency_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
    [
      g.userId,
      g.metric,
      g.question,
      g.promptDigest,
      g.model,
      g.sql,
      g.verdict,
      // Details come from the safety layer or fixed sentences; the cap keeps one bad answer from bloating the table.
      g.detail === null ? null : g.detail.slice(0, 1_000),
      g.source,
      g.dryRun,
      Math.max(0, Math.round(g.latencyMs)),
    ],
  );
  return toRecord(rows[0]!);
}

export async function getGeneration(db: Db, id: string): Promise<GenerationRecord | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const rows = await db.query<GenerationRow>(`SELECT ${COLUMNS} FROM sql_generations WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Newest first; `before` (an ISO time) pages back through older records. */
export async function listGenerations(
  db: Db,
  options: { limit: number; metric?: string | undefined; before?: string | undefined },
): Promise<GenerationRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (options.metric) {
    params.push(options.metric);
    where.push(`metric_name = $${params.length}`);
  }
  if (options.before) {
    params.push(options.before);
    where.push(`created_at < $${params.length}`);
  }
  params.push(options.limit);
  const rows = await db.query<GenerationRow>(
    `SELECT ${COLUMNS} FROM sql_generations ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id LIMIT $${params.length}`,
    params,
  );
  return rows.map(toRecord);
}
