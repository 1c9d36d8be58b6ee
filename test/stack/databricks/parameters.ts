// Named statement parameters -> typed DuckDB bindings. Values are always bound, never spliced into SQL:
// a parameter is data whatever it contains. A value that does not parse as its declared type fails the
// statement the way Databricks' implicit cast would.
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  FLOAT,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  TINYINT,
  VARCHAR,
  dateValue,
  decimalValue,
  timestampValue,
} from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { StatementParameter } from './api-schema.ts';
import { sqlError } from './errors.ts';

type ParameterKind = 'STRING' | 'BOOLEAN' | 'TINYINT' | 'SMALLINT' | 'INT' | 'BIGINT' | 'FLOAT' | 'DOUBLE' | 'DECIMAL' | 'DATE' | 'TIMESTAMP' | 'VOID';

export interface ParameterType {
  kind: ParameterKind;
  text: string;
  precision: number;
  scale: number;
}

const ALIASES: Record<string, ParameterKind> = {
  STRING: 'STRING',
  VOID: 'VOID',
  BOOLEAN: 'BOOLEAN',
  TINYINT: 'TINYINT',
  BYTE: 'TINYINT',
  SMALLINT: 'SMALLINT',
  SHORT: 'SMALLINT',
  INT: 'INT',
  INTEGER: 'INT',
  BIGINT: 'BIGINT',
  LONG: 'BIGINT',
  FLOAT: 'FLOAT',
  REAL: 'FLOAT',
  DOUBLE: 'DOUBLE',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP_LTZ: 'TIMESTAMP',
  TIMESTAMP_NTZ: 'TIMESTAMP',
};

/** Parses a parameter's declared type; `null` when Databricks would not accept it. */
export function parseParameterType(raw: string | undefined): ParameterType | null {
  const text = (raw ?? 'STRING').trim().toUpperCase().replace(/\s+/g, '');
  const decimal = /^(?:DECIMAL|DEC|NUMERIC)(?:\((\d{1,2})(?:,(\d{1,2}))?\))?$/.exec(text);
  if (decimal) {
    // Spark's DECIMAL without arguments is DECIMAL(10,0).
    const precision = decimal[1] === undefined ? 10 : Number(decimal[1]);
    const scale = decimal[2] === undefined ? 0 : Number(decimal[2]);
    if (precision < 1 || precision > 38 || scale > precision) return null;
    return { kind: 'DECIMAL', text: `DECIMAL(${precision},${scale})`, precision, scale };
  }
  const kind = ALIASES[text];
  return kind ? { kind, text, precision: 0, scale: 0 } : null;
}

const INTEGER_RANGES: Record<string, readonly [bigint, bigint]> = {
  TINYINT: [-128n, 127n],
  SMALLINT: [-32768n, 32767n],
  INT: [-2147483648n, 2147483647n],
  BIGINT: [-9223372036854775808n, 9223372036854775807n],
};

const castFailure = (value: string, type: ParameterType): Error =>
  sqlError(
    'CAST_INVALID_INPUT',
    `The value '${value}' of the type "STRING" cannot be cast to "${type.text}" because it is malformed.`,
    '22018',
  );

function parseDecimal(value: string, type: ParameterType): DuckDBValue {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw castFailure(value, type);
  const negative = match[1] === '-';
  const whole = match[2] || '0';
  const fraction = match[3] ?? '';
  // Round half up at the declared scale, as a cast does.
  const kept = fraction.slice(0, type.scale).padEnd(type.scale, '0');
  let scaled = BigInt(whole + kept);
  if ((fraction[type.scale] ?? '0') >= '5') scaled += 1n;
  if (scaled >= 10n ** BigInt(type.precision)) throw castFailure(value, type);
  return decimalValue(negative ? -scaled : scaled, type.precision, type.scale);
}

function parseDate(value: string, type: ParameterType): number {
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value.trim());
  if (!match) throw castFailure(value, type);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const epoch = Date.UTC(year, month - 1, day);
  const check = new Date(epoch);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) throw castFailure(value, type);
  return epoch;
}

/** Microseconds since the epoch, UTC (the session time zone); an explicit offset is honoured. */
function parseTimestamp(value: string, type: ParameterType): bigint {
  const match =
    /^(\d{4}-\d{1,2}-\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i.exec(value.trim());
  if (!match) throw castFailure(value, type);
  const dayStart = parseDate(match[1] ?? '', type);
  const [hours, minutes, seconds] = [Number(match[2] ?? 0), Number(match[3] ?? 0), Number(match[4] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) throw castFailure(value, type);
  const fraction = BigInt((match[5] ?? '').slice(0, 6).padEnd(6, '0'));
  let offsetMinutes = 0;
  const zone = match[6]?.toUpperCase();
  if (zone && zone !== 'Z' && zone !== 'UTC') {
    const digits = zone.replace(':', '');
    const sign = digits.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  const millis = dayStart + ((hours * 60 + minutes - offsetMinutes) * 60 + seconds) * 1000;
  return BigInt(millis) * 1000n + fraction;
}

function duckTypeOf(type: ParameterType): DuckDBType {
  switch (type.kind) {
    case 'STRING':
    case 'VOID':
      return VARCHAR;
    case 'BOOLEAN':
      return BOOLEAN;
    case 'TINYINT':
      return TINYINT;
    case 'SMALLINT':
      return SMALLINT;
    case 'INT':
      return INTEGER;
    case 'BIGINT':
      return BIGINT;
    case 'FLOAT':
      return FLOAT;
    case 'DOUBLE':
      return DOUBLE;
    case 'DECIMAL':
      return DECIMAL(type.precision, type.scale);
    case 'DATE':
      return DATE;
    case 'TIMESTAMP':
      return TIMESTAMP;
  }
}

function convert(value: string, type: ParameterType): DuckDBValue {
  switch (type.kind) {
    case 'STRING':
      return value;
    case 'VOID':
      return null;
    case 'BOOLEAN': {
      const lowered = value.trim().toLowerCase();
      if (lowered !== 'true' && lowered !== 'false') throw castFailure(value, type);
      return lowered === 'true';
    }
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT': {
      if (!/^[+-]?\d+$/.test(value.trim())) throw castFailure(value, type);
      const parsed = BigInt(value.trim());
      const [min, max] = INTEGER_RANGES[type.kind] ?? [0n, 0n];
      if (parsed < min || parsed > max) throw castFailure(value, type);
      return type.kind === 'BIGINT' ? parsed : Number(parsed);
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const trimmed = value.trim();
      const parsed = Number(trimmed);
      if (trimmed === '' || Number.isNaN(parsed)) throw castFailure(value, type);
      return parsed;
    }
    case 'DECIMAL':
      return parseDecimal(value, type);
    case 'DATE':
      return dateValue(Math.floor(parseDate(value, type) / 86_400_000));
    case 'TIMESTAMP':
      return timestampValue(parseTimestamp(value, type));
  }
}

export interface Bindings {
  values: Record<string, DuckDBValue>;
  types: Record<string, DuckDBType>;
}

/**
 * Binds the parameters the statement references. Parameters it does not reference are ignored, as on
 * Databricks; one it references but was not given fails the statement.
 */
export function bindParameters(referenced: readonly string[], parameters: readonly StatementParameter[]): Bindings {
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const name of referenced) {
    const parameter = parameters.find((candidate) => candidate.name === name);
    if (!parameter) {
      throw sqlError(
        'UNBOUND_SQL_PARAMETER',
        `Found the unbound parameter: ${name}. Please, fix \`args\` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as \`map()\`, \`array()\`, \`struct()\`.`,
        '42P02',
      );
    }
    const type = parseParameterType(parameter.type);
    if (!type) throw sqlError('INVALID_PARAMETER_MARKER_VALUE', `Unsupported type for parameter ${name}.`, '22023');
    values[name] = parameter.value === undefined || parameter.value === null ? null : convert(parameter.value, type);
    types[name] = duckTypeOf(type);
  }
  return { values, types };
}
