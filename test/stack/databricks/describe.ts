// DESCRIBE DETAIL <table> and DESCRIBE HISTORY <table> [LIMIT n], answered from the stand-in's Delta
// log with the columns, types and value rendering Databricks uses (maps, arrays and structs as JSON
// text in a JSON_ARRAY result). Any other statement is left to the engine.
import { tokenize } from './dialect.ts';
import { StatementError, sqlError, syntaxError } from './errors.ts';
import type { DeltaCommit, DeltaLog, DeltaTable } from './delta-log.ts';
import { literalResult } from './results.ts';
import type { ChunkedResult, ResultLimits, Row } from './results.ts';

export interface DescribeCommand {
  kind: 'DETAIL' | 'HISTORY';
  /** One to three name parts, as written. */
  name: string[];
  limit?: number;
}

type Token = ReturnType<typeof tokenize>[number];

/** The command when `sql` is DESCRIBE DETAIL or DESCRIBE HISTORY; null for anything else. */
export function parseDescribe(sql: string): DescribeCommand | null {
  let tokens: Token[];
  try {
    tokens = tokenize(sql).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  } catch {
    return null;
  }
  const word = (index: number): string | undefined => (tokens[index]?.kind === 'word' ? tokens[index]?.text.toUpperCase() : undefined);
  const first = word(0);
  if (first !== 'DESCRIBE' && first !== 'DESC') return null;
  const kind = word(1);
  if (kind !== 'DETAIL' && kind !== 'HISTORY') return null;

  const near = (index: number): StatementError => {
    const token = tokens[index];
    return token ? syntaxError(`'${token.text}'`) : syntaxError('end of input');
  };
  let at = 2;
  if (tokens[at]?.kind === 'string') {
    throw sqlError('DELTA_PATH_DOES_NOT_EXIST', `${tokens[at]?.text} doesn't exist, or is not a Delta table.`, '42K03');
  }
  const name: string[] = [];
  for (;;) {
    const token = tokens[at];
    if (token?.kind !== 'word' && token?.kind !== 'quoted') throw near(at);
    name.push(token.text);
    at++;
    if (!(tokens[at]?.kind === 'symbol' && tokens[at]?.text === '.')) break;
    at++;
  }
  if (name.length > 3) throw near(at - 1);

  let limit: number | undefined;
  if (kind === 'HISTORY' && word(at) === 'LIMIT') {
    const count = tokens[at + 1];
    if (count?.kind !== 'number' || !/^\d+$/.test(count.text)) throw near(at + 1);
    limit = Number(count.text);
    at += 2;
  }
  if (tokens[at]?.kind === 'symbol' && tokens[at]?.text === ';') at++;
  if (at < tokens.length) throw near(at);
  return limit === undefined ? { kind, name } : { kind, name, limit };
}

const COLUMN = (name: string, type_name: string, type_text = type_name) => ({ name, type_name, type_text });
const JOB_STRUCT = 'STRUCT<jobId: STRING, jobName: STRING, jobRunId: STRING, runId: STRING, jobOwnerId: STRING, triggerType: STRING>';

const DETAIL_COLUMNS = [
  COLUMN('format', 'STRING'),
  COLUMN('id', 'STRING'),
  COLUMN('name', 'STRING'),
  COLUMN('description', 'STRING'),
  COLUMN('location', 'STRING'),
  COLUMN('createdAt', 'TIMESTAMP'),
  COLUMN('lastModified', 'TIMESTAMP'),
  COLUMN('partitionColumns', 'ARRAY', 'ARRAY<STRING>'),
  COLUMN('clusteringColumns', 'ARRAY', 'ARRAY<STRING>'),
  COLUMN('numFiles', 'LONG', 'BIGINT'),
  COLUMN('sizeInBytes', 'LONG', 'BIGINT'),
  COLUMN('properties', 'MAP', 'MAP<STRING, STRING>'),
  COLUMN('minReaderVersion', 'INT'),
  COLUMN('minWriterVersion', 'INT'),
  COLUMN('tableFeatures', 'ARRAY', 'ARRAY<STRING>'),
  COLUMN('statistics', 'MAP', 'MAP<STRING, BIGINT>'),
];

const HISTORY_COLUMNS = [
  COLUMN('version', 'LONG', 'BIGINT'),
  COLUMN('timestamp', 'TIMESTAMP'),
  COLUMN('userId', 'STRING'),
  COLUMN('userName', 'STRING'),
  COLUMN('operation', 'STRING'),
  COLUMN('operationParameters', 'MAP', 'MAP<STRING, STRING>'),
  COLUMN('job', 'STRUCT', JOB_STRUCT),
  COLUMN('notebook', 'STRUCT', 'STRUCT<notebookId: STRING>'),
  COLUMN('clusterId', 'STRING'),
  COLUMN('readVersion', 'LONG', 'BIGINT'),
  COLUMN('isolationLevel', 'STRING'),
  COLUMN('isBlindAppend', 'BOOLEAN'),
  COLUMN('operationMetrics', 'MAP', 'MAP<STRING, STRING>'),
  COLUMN('userMetadata', 'STRING'),
  COLUMN('engineInfo', 'STRING'),
];

const iso = (ms: number): string => new Date(ms).toISOString();
const json = (value: unknown): string => JSON.stringify(value);

function detailRow(table: DeltaTable, description: string | null): Row {
  const last = table.history.at(-1)!;
  return [
    'delta',
    table.id,
    table.qualifiedName,
    description,
    table.location,
    iso(table.createdAt),
    iso(last.timestamp),
    json([]),
    json([]),
    String(table.numFiles),
    String(table.sizeInBytes),
    json({ 'delta.enableDeletionVectors': 'true' }),
    '3',
    '7',
    json(['appendOnly', 'deletionVectors', 'invariants']),
    json({ numRowsDeletedByDeletionVectors: 0, numDeletionVectors: 0 }),
  ];
}

function historyRow(commit: DeltaCommit): Row {
  return [
    String(commit.version),
    iso(commit.timestamp),
    commit.userId,
    commit.userName,
    commit.operation,
    json(commit.operationParameters),
    commit.job ? json(commit.job) : null,
    null,
    commit.clusterId,
    commit.readVersion === null ? null : String(commit.readVersion),
    commit.isolationLevel,
    commit.isBlindAppend ? 'true' : 'false',
    json(commit.operationMetrics),
    null,
    'Databricks-Runtime/15.4.x-photon-scala2.12',
  ];
}

export interface DescribeContext {
  delta: DeltaLog;
  /** The session's defaults for one- and two-part names. */
  catalog: string;
  schema: string;
  describeTable(name: string): string | null;
}

/** Answers a DESCRIBE command, or throws what Databricks reports for a table that is not there. */
export function answerDescribe(command: DescribeCommand, context: DescribeContext, limits: ResultLimits): ChunkedResult {
  const parts = command.name;
  const [catalog, schema, name] =
    parts.length === 3 ? parts : parts.length === 2 ? [context.catalog, ...parts] : [context.catalog, context.schema, ...parts];
  const table = context.delta.find(catalog ?? '', schema ?? '', name ?? '');
  if (!table) {
    throw sqlError(
      'TABLE_OR_VIEW_NOT_FOUND',
      `The table or view \`${parts.join('`.`')}\` cannot be found. Verify the spelling and correctness of the schema and catalog.`,
      '42P01',
    );
  }
  if (command.kind === 'DETAIL') return literalResult(DETAIL_COLUMNS, [detailRow(table, context.describeTable(table.name))], limits);
  const newestFirst = [...table.history].reverse().slice(0, command.limit ?? table.history.length);
  return literalResult(HISTORY_COLUMNS, newestFirst.map(historyRow), limits);
}
