import type { Edit } from './interval.ts';
import type { Token } from './lexer.ts';

/**
 * The top-level LIMIT of a statement, found in its tokens. In Databricks a LIMIT (and OFFSET) at
 * parenthesis depth 0 at the end of the statement applies to the whole query, set operations
 * included; any other LIMIT is inside parentheses and only bounds a subquery. Working on tokens
 * from the lexer means strings and comments cannot fake or hide one.
 */
export type LimitPlan =
  | { ok: true; /** the literal the statement already had, if any */ literal: number | null; edit: Edit | null }
  | { ok: false; detail: string; offending: string };

const INTEGER = /^\d+$/;

const isWord = (t: Token | undefined, value: string) => t?.kind === 'word' && t.value === value && t.depth === 0;
const isInteger = (t: Token | undefined) => t?.kind === 'number' && INTEGER.test(t.value);

/**
 * Plans the edit that leaves the statement with a top-level `LIMIT n`, n <= maxLimit: keep a
 * smaller literal, lower a larger one, or add one. A LIMIT that is not a whole-number literal
 * (`LIMIT :n`, `LIMIT ALL`, `LIMIT 10 + 5`) is refused rather than guessed at: the data path binds
 * no such parameter, and rewriting an expression would change what the author meant.
 * `tokens` must be the statement's tokens without trailing semicolons.
 */
export function planLimit(sql: string, tokens: readonly Token[], maxLimit: number): LimitPlan {
  const last = tokens.at(-1);
  if (!last) return { ok: false, detail: 'empty statement', offending: '' };
  let limitAt = -1;
  let offsetAt = -1;
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k]!;
    if (t.depth !== 0 || t.kind !== 'word') continue;
    if (t.value === 'LIMIT') {
      limitAt = k;
      break;
    }
    if (t.value === 'OFFSET' && offsetAt < 0) offsetAt = k;
  }
  const tail = (from: number) => sql.slice(tokens[from]!.start, last.end);
  const refuse = (from: number): LimitPlan => ({
    ok: false,
    detail: `the top-level ${tokens[from]!.value} must be a whole-number literal`,
    offending: tail(from).slice(0, 80),
  });

  if (limitAt >= 0) {
    const value = tokens[limitAt + 1];
    const rest = tokens.length - (limitAt + 2);
    const wellFormed = isInteger(value) && (rest === 0 || (rest === 2 && isWord(tokens[limitAt + 2], 'OFFSET') && isInteger(tokens[limitAt + 3])));
    if (!wellFormed || !value) return refuse(limitAt);
    const literal = Number(value.value);
    if (literal <= maxLimit) return { ok: true, literal, edit: null };
    return { ok: true, literal, edit: { start: value.start, end: value.end, text: String(maxLimit) } };
  }
  if (offsetAt >= 0) {
    // `... OFFSET m` alone: the LIMIT goes before it (Spark wants LIMIT, then OFFSET).
    if (offsetAt !== tokens.length - 2 || !isInteger(tokens[offsetAt + 1])) return refuse(offsetAt);
    const at = tokens[offsetAt]!.start;
    return { ok: true, literal: null, edit: { start: at, end: at, text: `LIMIT ${maxLimit} ` } };
  }
  return { ok: true, literal: null, edit: { start: last.end, end: last.end, text: ` LIMIT ${maxLimit}` } };
}
