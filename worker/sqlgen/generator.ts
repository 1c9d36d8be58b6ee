import { z } from 'zod';
import type { Metric } from '../metrics/catalog/store.ts';
import type { DataDictionary } from '../dictionary/load.ts';
import type { Config } from '../config/env.ts';
import { ApiError, isDependencyError } from '../http/errors.ts';
import type { DependencyError } from '../http/errors.ts';
import { callTool } from '../llm/bedrock.ts';
import type { BedrockClient } from '../llm/bedrock.ts';
import type { Postgres } from '../services/postgres.ts';
import type { SafetyPolicy } from './allowlist.ts';
import { buildSqlPrompt } from './prompt.ts';
import { MAX_SQL_LENGTH, checkSql } from './safety.ts';
import type { SafetyRejectCode, SafetyVerdict } from './safety.ts';
import { recordGeneration } from './store.ts';
import type { GenerationRecord } from './store.ts';

/**
 * The SQL generator: one Databricks query for a catalog metric, written by the model through a
 * forced tool call and then judged by the safety layer. Nothing it returns has skipped checkSql,
 * and every attempt — good, refused or failed — is recorded.
 *
 * Fail loud: in live mode a model failure is 503 llm_unavailable, never a quiet fallback. The
 * catalog template is used only when BUILDER_MODE=offline says so, and it is marked `template`.
 */

/** Flat on purpose: Bedrock refuses top-level combinators, and small models drop nested fields. */
export const SqlProposalSchema = z.object({
  sql: z.string().min(1).max(MAX_SQL_LENGTH).describe('Exactly one Databricks SQL SELECT statement, ending with a LIMIT'),
  tables_used: z.array(z.string().max(200)).max(20).describe('Fully qualified tables the query reads, e.g. workspace.support_l3.claims'),
  explanation: z.string().max(2_000).describe('One or two sentences on what the query computes'),
});
export type SqlProposal = z.infer<typeof SqlProposalSchema>;

export const SQL_TOOL = {
  name: 'propose_sql',
  description: 'Propose the one read-only Databricks SQL query that answers the request for the catalog metric.',
  schema: SqlProposalSchema,
};

const MAX_TOKENS = 1_024;

/**
 * The verdict as the generator reports it. A model answer that is not a query at all (DDL, DML,
 * SET, ...) is the model having been talked into a forbidden construct, so the generator reports
 * the safety layer's `not_select` as `forbidden_construct` and keeps the original as `safety_code`.
 * Every other code is the safety layer's own. POST /v1/sql/validate reports raw verdicts.
 */
export type GeneratorVerdict =
  | { ok: true; sql: string; tables: string[] }
  | { ok: false; code: SafetyRejectCode; detail: string; offending?: string; safety_code?: SafetyRejectCode };

export function reportVerdict(verdict: SafetyVerdict): GeneratorVerdict {
  if (verdict.ok || verdict.code !== 'not_select') return verdict;
  return { ...verdict, code: 'forbidden_construct', safety_code: 'not_select' };
}

export interface GeneratorDeps {
  db: Pick<Postgres, 'query'>;
  bedrock: BedrockClient;
  mode: Config['BUILDER_MODE'];
  dictionary: DataDictionary;
  policy: SafetyPolicy;
}

export interface GenerateRequest {
  userId: string;
  metric: Metric;
  question?: string | undefined;
  dryRun: boolean;
}

export interface Generation {
  record: GenerationRecord;
  verdict: GeneratorVerdict;
  source: 'bedrock' | 'template';
  model: string | null;
  promptDigest: string;
  explanation: string;
  tablesUsed: string[];
  latencyMs: number;
}

/** What the record says about a model failure: its kind and reason, never the model's text. */
function failureDetail(error: DependencyError): string {
  const { output, errorType } = error.details;
  if (output) return `output: ${output.reason}`;
  return errorType ? `${error.kind}: ${errorType}` : error.kind;
}

export async function generateSql(deps: GeneratorDeps, request: GenerateRequest): Promise<Generation> {
  const { metric } = request;
  if (metric.lineage.tables.length === 0) {
    throw new ApiError('conflict', `Metric ${metric.name} reads no lakehouse table, so there is nothing to generate SQL over.`);
  }
  const question = request.question?.trim() || undefined;
  const prompt = await buildSqlPrompt(metric, deps.dictionary, question);
  const base = { userId: request.userId, metric: metric.name, question: question ?? null, promptDigest: prompt.digest, dryRun: request.dryRun };

  if (deps.mode === 'offline') {
    const template = metric.queries.databricks;
    if (!template) throw new ApiError('conflict', `Metric ${metric.name} has no Databricks query to serve as the offline template.`);
    const started = Date.now();
    const verdict = reportVerdict(checkSql(template, deps.policy));
    const latencyMs = Date.now() - started;
    const record = await recordGeneration(deps.db, {
      ...base,
      model: null,
      sql: verdict.ok ? verdict.sql : template,
      verdict: verdict.ok ? 'ok' : verdict.code,
      detail: verdict.ok ? null : verdict.detail,
      source: 'template',
      latencyMs,
    });
    const explanation = `BUILDER_MODE is offline: this is the catalog's own Databricks query for ${metric.display_name}${question ? '; the request text was not applied' : ''}.`;
    return { record, verdict, source: 'template', model: null, promptDigest: prompt.digest, explanation, tablesUsed: metric.lineage.tables, latencyMs };
  }

  const started = Date.now();
  let proposal: SqlProposal;
  try {
    const result = await callTool(deps.bedrock, {
      system: prompt.system,
      messages: [{ role: 'user', content: prompt.user }],
      tool: SQL_TOOL,
      maxTokens: MAX_TOKENS,
      temperature: 0,
    });
    proposal = result.input;
  } catch (error) {
    // Recorded, then rethrown: the error handler answers it as 503 llm_unavailable.
    if (!isDependencyError(error, 'bedrock')) throw error;
    await recordGeneration(deps.db, {
      ...base,
      model: deps.bedrock.modelId,
      sql: null,
      verdict: 'llm_unavailable',
      detail: failureDetail(error),
      source: 'bedrock',
      latencyMs: Date.now() - started,
    });
    throw error;
  }
  const latencyMs = Date.now() - started;
  const verdict = reportVerdict(checkSql(proposal.sql, deps.policy));
  const record = await recordGeneration(deps.db, {
    ...base,
    model: deps.bedrock.modelId,
    sql: verdict.ok ? verdict.sql : proposal.sql,
    verdict: verdict.ok ? 'ok' : verdict.code,
    detail: verdict.ok ? null : verdict.detail,
    source: 'bedrock',
    latencyMs,
  });
  return {
    record,
    verdict,
    source: 'bedrock',
    model: deps.bedrock.modelId,
    promptDigest: prompt.digest,
    explanation: proposal.explanation,
    tablesUsed: proposal.tables_used,
    latencyMs,
  };
}
