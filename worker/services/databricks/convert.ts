// JSON_ARRAY cells arrive as strings (or null); this turns them into JS values by the column's type_name.
//
// Precision: LONG and DECIMAL become JS numbers. Integers are exact up to 2^53 (9,007,199,254,740,991)
// and DECIMAL values up to 15 significant digits; beyond that they are rounded to the nearest double.
// Counts, sums and DECIMAL(12,2) money columns in this lakehouse are far inside those limits; a caller
// that needs exact wide decimals should CAST them to STRING in SQL. TIMESTAMP keeps millisecond precision.
import { databricksError } from './http.ts';
import type { ResultColumn } from './types.ts';
import type { WireColumn } from './wire.ts';

type Converter = (cell: string) => unknown;

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FLOATING = /^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|NaN|[+-]?Infinity)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ZONED = /(Z|[+-]\d{2}:?\d{2})$/i;

export function toResultColumns(columns: readonly WireColumn[]): ResultColumn[] {
  return columns.map((column) => {
    const typeName = (column.type_name ?? 'STRING').toUpperCase();
    const out: ResultColumn = { name: column.name, typeName, typeText: column.type_text ?? typeName };
    if (column.type_precision !== undefined) out.precision = column.type_precision;
    if (column.type_scale !== undefined) out.scale = column.type_scale;
    return out;
  });
}

function malformed(column: ResultColumn, cell: string): never {
  throw databricksError(
    'protocol',
    `column ${column.name} (${column.typeName}) holds a value that is not a valid ${column.typeName}: ${JSON.stringify(cell.slice(0, 40))}`,
  );
}

function timestamp(column: ResultColumn): Converter {
  return (cell) => {
    // A timestamp without a zone is in the session time zone, which the API reports as UTC.
    const text = cell.includes('T') || !cell.includes(' ') ? cell : cell.replace(' ', 'T');
    const zoned = ZONED.test(text) || DATE.test(text) ? text : `${text}Z`;
    const date = new Date(zoned);
    if (Number.isNaN(date.getTime())) malformed(column, cell);
    return date.toISOString();
  };
}

function converterFor(column: ResultColumn): Converter {
  switch (column.typeName) {
    case 'BYTE':
    case 'SHORT':
    case 'INT':
    case 'LONG':
      return (cell) => (INTEGER.test(cell) ? Number(cell) : malformed(column, cell));
    case 'FLOAT':
    case 'DOUBLE':
      return (cell) => (FLOATING.test(cell) ? Number(cell) : malformed(column, cell));
    case 'DECIMAL':
      return (cell) => (DECIMAL.test(cell) ? Number(cell) : malformed(column, cell));
    case 'BOOLEAN':
      return (cell) => (cell === 'true' ? true : cell === 'false' ? false : malformed(column, cell));
    case 'DATE':
      return (cell) => (DATE.test(cell) ? cell : malformed(column, cell));
    case 'TIMESTAMP':
    case 'TIMESTAMP_NTZ':
      return timestamp(column);
    default:
      return (cell) => cell;
  }
}

/** Converts one chunk's data_array; anything that is not rows of strings/nulls of the right width is a protocol error. */
export function createRowConverter(columns: readonly ResultColumn[]): (dataArray: unknown, where: string) => Array<Record<string, unknown>> {
  const converters = columns.map(converterFor);
  const names = columns.map((column) => column.name);
  return (dataArray, where) => {
    if (!Array.isArray(dataArray)) throw databricksError('protocol', `${where}: data_array is not an array`);
    const rows: Array<Record<string, unknown>> = new Array(dataArray.length);
    for (let index = 0; index < dataArray.length; index++) {
      const cells: unknown = dataArray[index];
      if (!Array.isArray(cells) || cells.length !== names.length) {
        throw databricksError('protocol', `${where}: row ${index} does not have ${names.length} cells`);
      }
      const row: Record<string, unknown> = {};
      for (let column = 0; column < names.length; column++) {
        const cell: unknown = cells[column];
        const name = names[column] ?? String(column);
        let value: unknown;
        if (cell === null) value = null;
        else if (typeof cell === 'string') value = converters[column]?.(cell) ?? cell;
        else throw databricksError('protocol', `${where}: row ${index} column ${name} is neither a string nor null`);
        // A column aliased __proto__ must stay data, not replace the row's prototype.
        if (name === '__proto__') Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
        else row[name] = value;
      }
      rows[index] = row;
    }
    return rows;
  };
}
