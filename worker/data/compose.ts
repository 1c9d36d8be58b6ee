import type { BoundFilter } from './filters.ts';
import { predicate } from './filters.ts';

/**
 * Applies filters by shadowing the filtered tables with CTEs, so a catalog query keeps its own
 * shape: the query still says `FROM claims`, and `claims` is now the filtered rows.
 *   Postgres: the CTE takes the table's own name (an unqualified name resolves to the CTE first).
 *   Databricks: queries use three-part names, which a CTE cannot shadow, so the references are
 *   renamed to the CTE. The composed statement then goes through the safety layer like any other.
 */
export function applyFilters(sql: string, filters: readonly BoundFilter[], source: 'postgres' | 'databricks', qualify: (t: string) => string): string {
  if (filters.length === 0) return sql;
  const byTable = new Map<string, BoundFilter[]>();
  for (const f of filters) byTable.set(f.table, [...(byTable.get(f.table) ?? []), f]);
  const ctes: string[] = [];
  let body = sql.trim().replace(/;\s*$/, '');
  for (const [table, fs] of byTable) {
    const where = fs.map(predicate).join(' AND ');
    if (source === 'postgres') {
      ctes.push(`${table} AS (SELECT * FROM public.${table} WHERE ${where})`);
    } else {
      const alias = `cc_filtered_${table}`;
      body = body.replace(qualifiedPattern(qualify(table)), alias);
      ctes.push(`${alias} AS (SELECT * FROM ${qualify(table)} WHERE ${where})`);
    }
  }
  const leadingWith = /^with\s+(?!recursive\b)/i;
  if (leadingWith.test(body)) return `WITH ${ctes.join(', ')}, ${body.replace(leadingWith, '')}`;
  return `WITH ${ctes.join(', ')} ${body}`;
}

/** Matches catalog.schema.table with or without backticks around each part. */
function qualifiedPattern(qualified: string): RegExp {
  const parts = qualified.split('.').map((p) => `\`?${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\`?`);
  return new RegExp(`(?<![\\w.\`])${parts.join('\\.')}(?![\\w\`])`, 'gi');
}
