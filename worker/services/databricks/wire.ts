// What the Statement Execution API 2.0 answers, validated loosely enough to tolerate fields Databricks
// adds later and strictly enough that a shape the client would misread becomes a protocol error.
// Row data is checked while it is converted (convert.ts), which is much cheaper than a schema per cell.
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const STATEMENT_STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED'] as const;
export type StatementState = (typeof STATEMENT_STATES)[number];

export const wireColumn = z.object({
  name: z.string(),
  type_name: z.string().optional(),
  type_text: z.string().optional(),
  type_precision: count.optional(),
  type_scale: count.optional(),
  position: count.optional(),
});

export const wireManifest = z.object({
  format: z.string().optional(),
  schema: z.object({
    column_count: count.optional(),
    columns: z.array(wireColumn).optional(),
  }),
  total_row_count: count.optional(),
  total_chunk_count: count.optional(),
  truncated: z.boolean().optional(),
});

export const wireChunk = z.object({
  chunk_index: count.optional(),
  row_offset: count.optional(),
  row_count: count.optional(),
  data_array: z.unknown().optional(),
  next_chunk_index: count.optional(),
  next_chunk_internal_link: z.string().min(1).optional(),
  external_links: z.unknown().optional(),
});

export const wireStatement = z.object({
  statement_id: z.string().min(1),
  status: z.object({
    state: z.enum(STATEMENT_STATES),
    error: z.object({ error_code: z.string().optional(), message: z.string().optional() }).optional(),
    sql_state: z.string().optional(),
  }),
  manifest: wireManifest.optional(),
  result: wireChunk.optional(),
});

/** The body of an HTTP error answer. */
/** The fields of a Warehouses API answer the client reads; the rest are ignored. */
export const wireWarehouse = z.object({
  id: z.string(),
  state: z.string(),
  health: z.object({ status: z.string().optional() }).optional(),
});

export const wireError = z.object({ error_code: z.string().optional(), message: z.string().optional() });

export type WireColumn = z.infer<typeof wireColumn>;
export type WireManifest = z.infer<typeof wireManifest>;
export type WireChunk = z.infer<typeof wireChunk>;
export type WireStatement = z.infer<typeof wireStatement>;

export interface WireParameter {
  name: string;
  value: string | null;
  type?: string;
}

export interface WireExecuteRequest {
  warehouse_id: string;
  catalog: string;
  schema: string;
  statement: string;
  parameters: WireParameter[];
  wait_timeout: string;
  on_wait_timeout: 'CONTINUE';
  disposition: 'INLINE';
  format: 'JSON_ARRAY';
  row_limit?: number;
}
