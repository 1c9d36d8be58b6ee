// The baseline a benchmark compares the app's lakehouse routes with: the very statements the app
// submitted, run straight on the stand-in's engine (the same dialect translation and parameter
// binding a submitted statement gets, then DuckDB), with no HTTP, polling or JSON in between.
import type { ExecuteStatementRequest } from './api-schema.ts';
import { translateDatabricksSql } from './dialect.ts';
import type { Lakehouse } from './lakehouse.ts';
import { DEFAULT_SCHEMA } from './lakehouse.ts';
import { bindParameters } from './parameters.ts';

/** A statement as it was submitted, numbered in submission order. */
export interface LoggedStatement {
  seq: number;
  request: Pick<ExecuteStatementRequest, 'statement' | 'parameters' | 'catalog' | 'schema'>;
}

/** The last `size` submitted statements, for a benchmark to see what one request made the app ask. */
export function createStatementLog(size = 200): { add(request: ExecuteStatementRequest): void; since(seq: number): LoggedStatement[]; readonly last: number } {
  const entries: LoggedStatement[] = [];
  let last = 0;
  return {
    add(request) {
      last += 1;
      entries.push({ seq: last, request: { statement: request.statement, parameters: request.parameters, catalog: request.catalog, schema: request.schema } });
      if (entries.length > size) entries.shift();
    },
    since: (seq) => entries.filter((entry) => entry.seq > seq),
    get last() {
      return last;
    },
  };
}

/**
 * Runs each group of statements `runs` times and answers each run's wall time in milliseconds. The
 * statements of one group run concurrently, each on its own session, as the app submits them.
 */
/** Each statement's plan as the engine ran it (`EXPLAIN ANALYZE`): operators, rows and time per operator. */
export async function explainStatements(lakehouse: Lakehouse, clock: () => Date, group: ReadonlyArray<LoggedStatement['request']>): Promise<string[]> {
  const plans: string[] = [];
  for (const request of group) {
    const translation = translateDatabricksSql(request.statement, { now: clock() });
    const bindings = bindParameters(translation.parameters, request.parameters ?? []);
    const session = await lakehouse.openSession(request.catalog ?? lakehouse.defaultCatalog, request.schema ?? DEFAULT_SCHEMA);
    try {
      const prepared = await session.connection.prepare(`EXPLAIN ANALYZE ${translation.sql}`);
      if (translation.parameters.length > 0) prepared.bind(bindings.values, bindings.types);
      const rows = (await prepared.runAndReadAll()).getRowsJS();
      plans.push(rows.map((row) => String(row.at(-1))).join('\n'));
    } finally {
      session.close();
    }
  }
  return plans;
}

export async function timeStatements(
  lakehouse: Lakehouse,
  clock: () => Date,
  group: ReadonlyArray<LoggedStatement['request']>,
  runs: number,
): Promise<number[]> {
  const runOne = async (request: LoggedStatement['request']): Promise<void> => {
    const translation = translateDatabricksSql(request.statement, { now: clock() });
    const bindings = bindParameters(translation.parameters, request.parameters ?? []);
    const session = await lakehouse.openSession(request.catalog ?? lakehouse.defaultCatalog, request.schema ?? DEFAULT_SCHEMA);
    try {
      const prepared = await session.connection.prepare(translation.sql);
      if (translation.parameters.length > 0) prepared.bind(bindings.values, bindings.types);
      const reader = await prepared.runAndReadAll();
      // Reading the rows out is part of answering; the stand-in does it for every result.
      reader.getRowsJS();
    } finally {
      session.close();
    }
  };
  const latencies: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await Promise.all(group.map(runOne));
    latencies.push(performance.now() - started);
  }
  return latencies;
}
