// The one SQL tokenizer (worker/sqlgen/lexer.ts): the safety layer's strict reading, the named-parameter
// compiler and the Databricks stand-in all read statements through it, so they agree on where code is.
import { describe, expect, it } from 'vitest';
import { joinTokens, lex, tokenizeSql } from '../../worker/sqlgen/lexer.ts';
import { namedParameters } from '../../worker/sqlgen/named-params.ts';
import { translateDatabricksSql } from '../stack/databricks/dialect.ts';
import { ATTACKS, VALID } from './sql-safety-corpus.ts';

const CORPUS = [...VALID, ...ATTACKS].map((c) => c.sql);

describe('tokenizeSql', () => {
  it('covers the input with contiguous tokens that carry their offsets', () => {
    for (const sql of CORPUS) {
      for (const dialect of ['postgres', 'databricks'] as const) {
        const tokens = tokenizeSql(sql, dialect);
        expect(joinTokens(tokens)).toBe(sql);
        let at = 0;
        for (const t of tokens) {
          expect(t.start).toBe(at);
          expect(t.text).toBe(sql.slice(t.start, t.end));
          at = t.end;
        }
      }
    }
  });

  it('is the reading the safety layer checks: the same strings and quoted names in the same places', () => {
    for (const sql of CORPUS) {
      const lexed = lex(sql);
      if (!lexed.ok) continue;
      const literal = (t: { kind: string }) => t.kind === 'string' || t.kind === 'quoted';
      expect(lexed.tokens.filter(literal).map((t) => [t.start, t.end])).toEqual(
        tokenizeSql(sql, 'databricks').filter(literal).map((t) => [t.start, t.end]),
      );
    }
  });

  it('ends a -- comment at CR as well as LF, as both engines do', () => {
    for (const dialect of ['postgres', 'databricks'] as const) {
      expect(namedParameters('SELECT 1 -- note\r, :start', dialect)).toEqual(['start']);
      expect(tokenizeSql('-- a\rb', dialect).map((t) => t.kind)).toEqual(['comment', 'space', 'word']);
    }
    expect(translateDatabricksSql('SELECT 1 -- note\r, :start', { now: new Date(0) }).parameters).toEqual(['start']);
  });

  it('marks what never closes', () => {
    expect(tokenizeSql("SELECT 'open", 'databricks').at(-1)).toMatchObject({ kind: 'string', unterminated: true });
    expect(tokenizeSql('SELECT `open', 'databricks').at(-1)).toMatchObject({ kind: 'quoted', unterminated: true });
    expect(tokenizeSql('SELECT /* a /* b */', 'postgres').at(-1)).toMatchObject({ kind: 'comment', unterminated: true });
    expect(tokenizeSql('SELECT $t$ body', 'postgres').at(-1)).toMatchObject({ kind: 'string', unterminated: true });
    expect(tokenizeSql("SELECT 'closed'", 'databricks').at(-1)).not.toHaveProperty('unterminated');
  });

  it('reads each dialect’s quoting', () => {
    const kinds = (sql: string, dialect: 'postgres' | 'databricks') => tokenizeSql(sql, dialect).filter((t) => t.kind !== 'space').map((t) => [t.kind, t.name ?? t.text]);
    expect(kinds('"a""b" `c``d` \'x\'', 'databricks')).toEqual([['string', '"a""b"'], ['quoted', 'c`d'], ['string', "'x'"]]);
    expect(kinds('"a""b" E\'\\\'\' $q$:p$q$ a$b', 'postgres')).toEqual([['quoted', 'a"b'], ['word', 'E'], ['string', "'\\''"], ['string', '$q$:p$q$'], ['word', 'a$b']]);
    expect(kinds('x::date, :f0, 10L, 1.5e3BD', 'databricks')).toEqual([['word', 'x'], ['cast', '::'], ['word', 'date'], ['symbol', ','], ['param', 'f0'], ['symbol', ','], ['number', '10L'], ['symbol', ','], ['number', '1.5e3BD']]);
  });
});

describe('the Databricks stand-in reads through it', () => {
  const translate = (sql: string) => translateDatabricksSql(sql, { now: new Date(0) }).sql;

  it('keeps Spark literals whole: a leading-dot number with a suffix, adjacent strings, escaped backticks', () => {
    expect(translate('SELECT .5D, 2.D')).toBe('SELECT CAST(.5 AS DOUBLE), CAST(2. AS DOUBLE)');
    expect(translate("SELECT 'it''s', `a``b`")).toBe('SELECT \'its\', "a`b"');
  });
});
