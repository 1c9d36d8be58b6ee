// How the stand-in stores each Databricks column type the data dictionary may declare in DuckDB. The
// switch is exhaustive so a type kind added to worker/dictionary/schema.ts fails the typecheck here
// instead of creating a column the stand-in cannot fill or report.
import type { DatabricksType } from '../../../worker/dictionary/schema.ts';

/** The DuckDB type that stores a Databricks column type without loss. */
export function duckdbTypeFor(type: DatabricksType): string {
  const kind = type.kind;
  switch (kind) {
    case 'STRING':
      return 'VARCHAR';
    case 'INT':
      return 'INTEGER';
    case 'BOOLEAN':
    case 'TINYINT':
    case 'SMALLINT':
    case 'BIGINT':
    case 'FLOAT':
    case 'DOUBLE':
    case 'DATE':
    case 'TIMESTAMP':
      return kind;
    case 'TIMESTAMP_NTZ':
      // Every stand-in timestamp is UTC, the session time zone, so the zone-less and the session-zone
      // Databricks types hold the same values. DuckDB has no second zone-less type to tell them apart
      // by, so results report such a column as TIMESTAMP and a live check against the stand-in flags it.
      return 'TIMESTAMP';
    case 'DECIMAL':
      return `DECIMAL(${type.precision},${type.scale})`;
    default: {
      const unhandled: never = kind;
      throw new Error(`no DuckDB type for Databricks type ${String(unhandled)}`);
    }
  }
}
