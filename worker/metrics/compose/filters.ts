import { z } from '@hono/zod-openapi';
import type { DataDictionary } from '../../dictionary/load.ts';
import type { FieldProblem } from '../../http/errors.ts';

const Scalar = z.union([z.string().max(200), z.number(), z.boolean()]);

export const FilterSchema = z
  .strictObject({
    column: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
    op: z.enum(['eq', 'neq', 'in']),
    value: z.union([Scalar, z.array(Scalar).min(1).max(50)]),
  })
  .openapi('WidgetFilter');
export type Filter = z.infer<typeof FilterSchema>;

/** A filter applied to the tables that have its column, with its bound parameter names. */
export interface BoundFilter {
  table: string;
  column: string;
  op: Filter['op'];
  params: Array<{ name: string; value: string | number | boolean; type: string }>;
}

/**
 * Filters name dictionary columns and carry values of the column's type (and, where the
 * dictionary lists them, one of its allowed values). No SQL text ever comes from the client.
 */
export function checkFilters(filters: readonly Filter[], tables: readonly string[], dictionary: DataDictionary): FieldProblem[] {
  const problems: FieldProblem[] = [];
  filters.forEach((f, i) => {
    const pointer = `body/filters/${i}`;
    const columns = tables.map((t) => dictionary.column(t, f.column)).filter((c) => c !== undefined);
    if (columns.length === 0) {
      problems.push({ pointer, message: `${f.column} is not a column of ${tables.join(', ') || 'this metric'} in the data dictionary` });
      return;
    }
    const values = Array.isArray(f.value) ? f.value : [f.value];
    if (f.op !== 'in' && Array.isArray(f.value)) problems.push({ pointer, message: `op ${f.op} takes one value; use in for a list` });
    for (const column of columns) {
      const kind = column.type.kind;
      for (const v of values) {
        const ok =
          kind === 'STRING' ? typeof v === 'string'
          : kind === 'BOOLEAN' ? typeof v === 'boolean'
          : ['TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'DOUBLE', 'FLOAT', 'DECIMAL'].includes(kind) ? typeof v === 'number' && Number.isFinite(v)
          : typeof v === 'string' && !Number.isNaN(Date.parse(v));
        if (!ok) problems.push({ pointer, message: `${String(v)} is not a valid ${kind} for ${column.table}.${column.name}` });
        else if (column.allowedValues.length > 0 && !column.allowedValues.includes(String(v))) {
          problems.push({ pointer, message: `${String(v)} is not one of ${column.allowedValues.join(', ')}` });
        }
      }
    }
  });
  return problems;
}

export function bindFilters(filters: readonly Filter[], tables: readonly string[], dictionary: DataDictionary): BoundFilter[] {
  const out: BoundFilter[] = [];
  let n = 0;
  for (const f of filters) {
    for (const table of tables) {
      const column = dictionary.column(table, f.column);
      if (!column) continue;
      const values = Array.isArray(f.value) ? f.value : [f.value];
      out.push({ table, column: column.name, op: f.op, params: values.map((value) => ({ name: `f${n++}`, value, type: column.type.kind })) });
    }
  }
  return out;
}

/** `col = :f0`, `col <> :f0`, `col IN (:f0, :f1)`: placeholders only, values travel as parameters. */
export function predicate(f: BoundFilter): string {
  const names = f.params.map((p) => `:${p.name}`);
  if (f.op === 'in') return `${f.column} IN (${names.join(', ')})`;
  return `${f.column} ${f.op === 'eq' ? '=' : '<>'} ${names[0]}`;
}
