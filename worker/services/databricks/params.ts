// Named parameters -> the API's `parameters` array. The API takes every value as a string (or null for
// SQL NULL) plus a type the warehouse casts it to, so values are always bound as data, never spliced
// into the SQL text.
import type { DatabricksParam, DatabricksParamType, DatabricksTypedParam } from './types.ts';
import type { WireParameter } from './wire.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;
const MAX_DECIMAL_PRECISION = 38;

function isTyped(param: DatabricksParam): param is DatabricksTypedParam {
  return typeof param === 'object' && param !== null && !(param instanceof Date);
}

function isoTimestamp(date: Date, name: string): string {
  if (Number.isNaN(date.getTime())) throw new RangeError(`parameter ${name} is an invalid Date`);
  return date.toISOString();
}

function inferType(value: string | number | boolean | Date, name: string): DatabricksParamType {
  if (value instanceof Date) return 'TIMESTAMP';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'string') return 'STRING';
  if (!Number.isFinite(value)) throw new RangeError(`parameter ${name} is not a finite number`);
  if (!Number.isInteger(value)) return 'DOUBLE';
  return value >= INT_MIN && value <= INT_MAX ? 'INT' : 'BIGINT';
}

function stringify(value: string | number | boolean | Date, name: string): string {
  if (value instanceof Date) return isoTimestamp(value, name);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`parameter ${name} is not a finite number`);
    // Exponent notation (1e+21) is not a valid DECIMAL/BIGINT literal; integers are written out in full.
    return Number.isInteger(value) && Math.abs(value) >= 1e21 ? BigInt(value).toString() : String(value);
  }
  return String(value);
}

/**
 * Spark reads a bare DECIMAL as DECIMAL(10,0), which would silently round 10.25 to 10; the smallest
 * precision and scale that hold the value exactly are sent instead.
 */
function decimalTypeFor(text: string, name: string): string {
  const match = /^[+-]?(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!match || (match[1] === '' && (match[2] ?? '') === '')) throw new RangeError(`parameter ${name} is not a decimal number`);
  const whole = (match[1] ?? '').replace(/^0+/, '');
  const scale = (match[2] ?? '').length;
  const precision = Math.max(1, whole.length + scale);
  if (precision > MAX_DECIMAL_PRECISION) throw new RangeError(`parameter ${name} needs more than ${MAX_DECIMAL_PRECISION} digits`);
  return `DECIMAL(${precision},${scale})`;
}

export function encodeParameter(name: string, param: DatabricksParam): WireParameter {
  if (!NAME.test(name)) throw new RangeError(`parameter name ${JSON.stringify(name)} is not a plain identifier`);
  const typed = isTyped(param) ? param : { value: param };
  const { value } = typed;
  if (value === null || value === undefined) {
    return typed.type ? { name, value: null, type: typed.type } : { name, value: null };
  }
  const type = typed.type ?? inferType(value, name);
  const text = stringify(value, name);
  return { name, value: text, type: type === 'DECIMAL' ? decimalTypeFor(text, name) : type };
}

export function encodeParameters(params: Record<string, DatabricksParam>): WireParameter[] {
  return Object.entries(params).map(([name, param]) => encodeParameter(name, param));
}
