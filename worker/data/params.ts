/**
 * Metric queries use named parameters (`:start`, `:end`, `:f0` …) for both sources. Databricks
 * binds them by name itself; for Postgres they are compiled to `$n` here. Quoted strings,
 * quoted identifiers, comments and `::type` casts are left alone.
 */
export function compileNamedForPostgres(
  sql: string,
  params: Record<string, unknown>,
  castFor: (name: string) => string | undefined = () => undefined,
): { text: string; values: unknown[] } {
  const order: string[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (ch === ':' && next !== undefined && /[A-Za-z_]/.test(next)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))!;
      const name = match[0];
      if (!(name in params)) throw new Error(`the query uses :${name}, which has no value`);
      let index = order.indexOf(name);
      if (index === -1) index = order.push(name) - 1;
      // An explicit cast keeps Postgres from guessing a parameter's type from its neighbours
      // (`:end - INTERVAL '72 hours'` would otherwise be read as interval arithmetic).
      const cast = castFor(name);
      out += cast ? `$${index + 1}::${cast}` : `$${index + 1}`;
      i += 1 + name.length;
    } else {
      out += ch;
      i++;
    }
  }
  return { text: out, values: order.map((n) => params[n]) };
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** Names a query refers to, in order of first use (for validation before running it). */
export function namedParameters(sql: string): string[] {
  const seen = new Set<string>();
  const probe = new Proxy({} as Record<string, unknown>, {
    has: (_t, key) => {
      if (typeof key === 'string') seen.add(key);
      return true;
    },
    get: () => null,
  });
  compileNamedForPostgres(sql, probe);
  return [...seen];
}
