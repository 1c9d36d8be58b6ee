import { displayRef, isPathSource, resolveTable } from './allowlist.ts';
import type { SafetyPolicy, TableRef } from './allowlist.ts';
import { forbiddenFunctionReason, NILADIC_FORBIDDEN } from './functions.ts';

/**
 * Walks a node-sql-parser AST of one SELECT and checks every table reference and function call
 * in it, wherever it sits: CTE bodies, set-operation branches, subqueries in FROM, WHERE, HAVING,
 * QUALIFY or the select list, lateral joins, parenthesised join trees. The lakehouse path walks
 * the snowflake grammar's AST with the safety policy; admin-written Postgres metric queries walk
 * the postgresql grammar's AST with their own rules (which tables, which functions).
 *
 * Subqueries are found generically (any object whose `type` is `select`, or that wraps one in
 * `ast`), so a clause this code does not name is still searched. FROM items are the reverse: only
 * shapes known to be a table, a subquery, a join tree or inline VALUES are accepted, so a new kind
 * of source (a table-valued function, a file) is refused rather than overlooked.
 */

export type AstRejectCode = 'not_select' | 'table_not_allowed' | 'forbidden_construct' | 'forbidden_function' | 'unparseable';

export interface AstRejection {
  code: AstRejectCode;
  detail: string;
  offending?: string;
}

export type AstResult =
  | { ok: true; tables: Set<string>; cteNames: Set<string> }
  | { ok: false; rejection: AstRejection };

type Node = { readonly [key: string]: unknown };

/** Deeper than this the statement is machine-made noise; refusing also keeps the walk off the stack limit. */
const MAX_DEPTH = 400;

interface Scope {
  readonly names: ReadonlySet<string>;
  readonly parent: Scope | null;
}

/** What a dialect allows: the walk is the same, the answers to "may it read this?" differ. */
export interface AstRules {
  /** The allowed table's canonical name, or null when the reference is not allowed. */
  resolveTable(ref: TableRef): string | null;
  /** Completes "table x is not in …" in a refusal. */
  readonly allowlistName: string;
  /** Why calling the (unqualified) function `name` is refused, or undefined when it may be called. */
  functionProblem(name: string): string | undefined;
}

/** The lakehouse's rules: the policy's catalog and schema, the Databricks function denylist. */
export function lakehouseRules(policy: SafetyPolicy): AstRules {
  return {
    resolveTable: (ref) => resolveTable(ref, policy),
    allowlistName: `${policy.catalog}.${policy.schema}'s allowlist`,
    functionProblem: forbiddenFunctionReason,
  };
}

interface Context {
  readonly rules: AstRules;
  readonly tables: Set<string>;
  readonly cteNames: Set<string>;
}

/** Carries a rejection out of the recursive walk. */
class Rejected {
  readonly rejection: AstRejection;
  constructor(rejection: AstRejection) {
    this.rejection = rejection;
  }
}

function reject(code: AstRejectCode, detail: string, offending?: string): never {
  throw new Rejected(offending === undefined ? { code, detail } : { code, detail, offending });
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function inScope(scope: Scope | null, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.has(name)) return true;
  return false;
}

/** Name of a function node: `{ name: 'COUNT' }` or `{ name: { name: [{ value }], schema? } }`. */
function functionName(node: Node): { name: string; qualified: boolean } | null {
  const raw = node.name;
  if (typeof raw === 'string') return { name: raw, qualified: false };
  if (!isNode(raw) || !Array.isArray(raw.name)) return null;
  const parts = raw.name.map((p: unknown) => (isNode(p) ? str(p.value) : null));
  if (parts.some((p) => p === null)) return null;
  const schema = isNode(raw.schema) ? str(raw.schema.value) : null;
  const all = [schema, ...parts].filter((p): p is string => p !== null);
  return { name: all.join('.'), qualified: all.length > 1 };
}

function checkFunction(node: Node, rules: AstRules): void {
  const fn = functionName(node);
  if (!fn) reject('unparseable', 'a function call whose name could not be read');
  if (fn.qualified) {
    reject('forbidden_function', `qualified function names are user-defined functions and are not allowed: ${fn.name}`, fn.name);
  }
  if (fn.name.toLowerCase() === 'identifier') {
    reject('forbidden_construct', 'IDENTIFIER(...) builds names at run time and is not allowed', fn.name);
  }
  const reason = rules.functionProblem(fn.name);
  if (reason) reject('forbidden_function', `function ${fn.name} is not allowed: it ${reason}`, fn.name);
}

function columnName(node: Node): string | null {
  const c = node.column;
  if (typeof c === 'string') return c;
  if (isNode(c) && isNode(c.expr)) return str(c.expr.value);
  return null;
}

/** Node types whose fields are all primitive: a literal's value, never an expression. */
const LITERAL_TYPES = new Set([
  'number', 'bigint', 'bool', 'boolean', 'null', 'star', 'param', 'origin', 'default', 'string', 'single_quote_string',
  'double_quote_string', 'backticks_quote_string', 'natural_string', 'hex_string', 'full_hex_string', 'bit_string',
]);

/** Any value inside a clause: finds subqueries and function calls at any depth. */
function walk(value: unknown, scope: Scope | null, ctx: Context, depth: number): void {
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_DEPTH) reject('unparseable', 'statement nested too deeply');
  if (Array.isArray(value)) {
    for (const v of value) walk(v, scope, ctx, depth + 1);
    return;
  }
  const node = value as Node;
  switch (node.type) {
    case 'select':
      walkQuery(node, scope, ctx, depth + 1);
      return;
    case 'function':
    case 'aggr_func':
    case 'window_func':
      checkFunction(node, ctx.rules);
      break;
    case 'column_ref': {
      const name = columnName(node);
      if (node.table == null && name !== null && NILADIC_FORBIDDEN.has(name.toLowerCase())) {
        reject('forbidden_function', `${name} is not allowed: it reveals the identity the query runs as`, name);
      }
      // Delta's hidden `_metadata` column (file_path, file_name, file_size …) shows where the
      // table's files live in storage, whichever part of the reference names it.
      const parts = [node.db, node.schema, node.table, name].filter((p): p is string => typeof p === 'string');
      if (parts.some((p) => p.replaceAll('`', '').toLowerCase() === '_metadata')) {
        reject('forbidden_construct', 'the hidden _metadata column is not allowed: it reveals storage paths', '_metadata');
      }
      // Names only, unless the parser hung expressions on it.
      if (node.options != null) walk(node.options, scope, ctx, depth + 1);
      return;
    }
    case 'var':
      reject('forbidden_construct', 'session variables are not allowed');
  }
  // Literals are the bulk of an AST and hold nothing to check.
  if (typeof node.type === 'string' && LITERAL_TYPES.has(node.type)) return;
  for (const key in node) {
    const child = node[key];
    if (child !== null && typeof child === 'object' && key !== 'loc' && key !== 'tableList' && key !== 'columnList') {
      walk(child, scope, ctx, depth + 1);
    }
  }
}

/** `WITH a AS (...), b AS (...)`: each body sees the names before it (and itself when RECURSIVE). */
function walkWith(list: unknown, scope: Scope | null, ctx: Context, depth: number): Scope | null {
  if (!Array.isArray(list) || list.length === 0) return scope;
  const names = new Set<string>();
  const local: Scope = { names, parent: scope };
  for (const cte of list) {
    if (!isNode(cte) || !isNode(cte.name) || typeof cte.name.value !== 'string' || !isNode(cte.stmt)) {
      reject('unparseable', 'a WITH clause entry could not be read');
    }
    const name = cte.name.value.toLowerCase();
    if (cte.recursive === true) names.add(name);
    walk(cte.stmt.ast ?? cte.stmt, local, ctx, depth + 1);
    names.add(name);
    ctx.cteNames.add(name);
  }
  return local;
}

/**
 * A SELECT with its set-operation chain (`_next`). A leading WITH scopes over the whole chain —
 * unless the first branch is parenthesised (`(WITH c AS ... SELECT ...) UNION ALL SELECT ... FROM c`),
 * where Databricks keeps the CTE inside the parentheses; the parser puts it on the head either way.
 */
function walkQuery(head: Node, scope: Scope | null, ctx: Context, depth: number): void {
  const headScope = walkWith(head.with, scope, ctx, depth);
  const chainScope = head.parentheses_symbol === true || head._parentheses === true ? scope : headScope;
  for (let q: Node | null = head; q; q = isNode(q._next) ? q._next : null) {
    if (q.type !== 'select') reject('not_select', `only SELECT is allowed, found ${String(q.type)}`, String(q.type));
    const s = q === head ? headScope : walkWith(q.with, chainScope, ctx, depth);
    if (isNode(q.into) && q.into.position != null) reject('not_select', 'SELECT ... INTO writes data and is not allowed', 'INTO');
    walkFrom(q.from, s, ctx, depth);
    for (const key in q) {
      if (key === 'with' || key === 'from' || key === '_next' || key === 'into' || key === 'loc') continue;
      walk(q[key], s, ctx, depth + 1);
    }
  }
}

const FROM_ITEM_CONSUMED = new Set(['db', 'schema', 'catalog', 'table', 'expr', 'as', 'surround', 'loc', 'prefix', 'join', 'using', 'type']);

function walkFrom(from: unknown, scope: Scope | null, ctx: Context, depth: number): void {
  if (depth > MAX_DEPTH) reject('unparseable', 'statement nested too deeply');
  if (from == null) return;
  const items = Array.isArray(from) ? from : [from];
  for (const item of items) {
    if (!isNode(item)) reject('unparseable', 'a FROM item could not be read');
    if (item.type === 'dual') continue;
    const expr = item.expr;
    if (typeof item.table === 'string') {
      if (expr != null) reject('forbidden_construct', 'unsupported FROM item (a table with an expression)', item.table);
      tableReference(item, scope, ctx);
    } else if (isNode(expr)) {
      if (isNode(expr.ast)) walk(expr.ast, scope, ctx, depth + 1);
      else if (expr.type === 'select') walkQuery(expr, scope, ctx, depth + 1);
      else if (expr.type === 'tables') walkFrom(expr.expr, scope, ctx, depth + 1);
      else if (expr.type === 'values') walk(expr, scope, ctx, depth + 1);
      else if (expr.type === 'function') {
        checkFunction(expr, ctx.rules);
        const fn = functionName(expr)?.name ?? 'function';
        reject('forbidden_construct', `table-valued function ${fn}(...) in FROM is not allowed`, fn);
      } else {
        reject('forbidden_construct', `unsupported FROM item (${String(expr.type)})`, String(expr.type));
      }
    } else {
      reject('forbidden_construct', 'unsupported FROM item');
    }
    // Join conditions, PIVOT/UNPIVOT and anything else hung on the item can hold subqueries.
    for (const key in item) if (!FROM_ITEM_CONSUMED.has(key)) walk(item[key], scope, ctx, depth + 1);
  }
}

function tableReference(item: Node, scope: Scope | null, ctx: Context): void {
  const table = item.table as string;
  // The parser accepts quoted strings as names; Databricks reads them as string literals.
  if (isNode(item.surround) && Object.values(item.surround).some((q) => q === "'" || q === '"')) {
    reject('unparseable', `a string literal is not a table name: '${table}'`, table);
  }
  const db = str(item.db);
  const schema = str(item.schema);
  // Three parts come back as { db: catalog, catalog, schema }; two as { db: schema }.
  const ref: TableRef = schema !== null
    ? { catalog: str(item.catalog) ?? db, schema, table }
    : { catalog: null, schema: db, table };
  if (ref.schema === null && inScope(scope, table.toLowerCase())) return;
  if (isPathSource(ref)) reject('forbidden_construct', `file and path sources are not allowed: ${displayRef(ref)}`, displayRef(ref));
  const resolved = ctx.rules.resolveTable(ref);
  if (resolved === null) {
    reject('table_not_allowed', `table ${displayRef(ref)} is not in ${ctx.rules.allowlistName}`, displayRef(ref));
  }
  ctx.tables.add(resolved);
}

/** Checks a parsed lakehouse statement (the AST of exactly one statement) against the safety policy. */
export function inspectAst(ast: unknown, policy: SafetyPolicy): AstResult {
  return inspectAstWith(ast, lakehouseRules(policy));
}

/** Checks a parsed statement (the AST of exactly one statement) against a dialect's rules. */
export function inspectAstWith(ast: unknown, rules: AstRules): AstResult {
  const ctx: Context = { rules, tables: new Set(), cteNames: new Set() };
  try {
    if (!isNode(ast)) reject('unparseable', 'the statement could not be read');
    if (ast.type !== 'select') reject('not_select', `only SELECT is allowed, found ${String(ast.type)}`, String(ast.type).toUpperCase());
    walkQuery(ast, null, ctx, 0);
    return { ok: true, tables: ctx.tables, cteNames: ctx.cteNames };
  } catch (e) {
    if (e instanceof Rejected) return { ok: false, rejection: e.rejection };
    // A stack overflow or an AST shape this walk did not expect: refuse, never pass.
    return { ok: false, rejection: { code: 'unparseable', detail: 'the statement could not be checked' } };
  }
}

/**
 * Second opinion from the parser's own table list (`select::db::table`, CTE names as `null`):
 * whatever the walk above might have missed, the parser still listed. Adds each resolved table.
 */
export function checkTableList(list: readonly string[], cteNames: ReadonlySet<string>, tables: Set<string>, rules: AstRules): AstRejection | null {
  for (const entry of list) {
    const first = entry.indexOf('::');
    const last = entry.lastIndexOf('::');
    if (first < 0 || first === last) return { code: 'table_not_allowed', detail: `unreadable table reference ${entry}`, offending: entry };
    const kind = entry.slice(0, first);
    const db = entry.slice(first + 2, last);
    const table = entry.slice(last + 2);
    if (kind !== 'select') return { code: 'not_select', detail: `only SELECT is allowed, found ${kind}`, offending: kind.toUpperCase() };
    if (db === 'null' && cteNames.has(table.toLowerCase())) continue;
    const parts = db === 'null' ? [] : db.split('.');
    if (parts.length > 2) return { code: 'table_not_allowed', detail: `table ${db}.${table} is not allowed`, offending: `${db}.${table}` };
    const ref = parts.length === 2 ? { catalog: parts[0]!, schema: parts[1]!, table } : { catalog: null, schema: parts[0] ?? null, table };
    const resolved = rules.resolveTable(ref);
    if (resolved === null) {
      const shown = db === 'null' ? table : `${db}.${table}`;
      return { code: 'table_not_allowed', detail: `table ${shown} is not in ${rules.allowlistName}`, offending: shown };
    }
    tables.add(resolved);
  }
  return null;
}
