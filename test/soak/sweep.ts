import { ERROR_CODES } from '../../worker/http/errors.ts';

/**
 * The bad-input sweep: every operation in /openapi.json, called with malformed JSON, wrong types,
 * NUL characters, unpaired surrogates, huge strings, negative and huge numbers in its path, query
 * and body. The verdict is the API's promise: no 5xx, and every 4xx is problem+json with a code
 * from the closed list.
 */
export interface SweepReport {
  operations: number;
  requests: number;
  statuses: Record<string, number>;
  /** Answers that break the promise: a 5xx, or a 4xx that is not a well-formed problem. */
  failures: Array<{ request: string; status: number; body: string }>;
}

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
  example?: unknown;
  format?: string;
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema };
type Operation = { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> } };
type OpenApi = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

/** Operations the sweep leaves alone: they would end the sweeping session itself. */
const SKIP = new Set(['POST /v1/auth/sign-out']);

const CODES = new Set<string>(ERROR_CODES);
const HUGE = 'x'.repeat(200_000);
const NUL = 'a\u0000b';
const LONE_SURROGATE = 'a\ud800b';
const NUMBERS = [-1, -1e308, 1e308, 2 ** 63, 1.5, 0];
/** Percent-encoded as sent: NUL, an unpaired surrogate as invalid UTF-8, a stray %, traversal. */
const RAW_HOSTILE = ['a%00b', 'a%ED%A0%80b', 'a%C0%AFb', 'x'.repeat(5_000), '-1', '99999999999999999999', '..%2f..%2fetc', '%', '%zz'];
const DEEP = '['.repeat(20_000) + ']'.repeat(20_000);

function resolve(spec: OpenApi, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && s.$ref; i++) s = spec.components?.schemas?.[s.$ref.split('/').pop()!] ?? {};
  if (s.allOf) return s.allOf.reduce<Schema>((acc, part) => ({ ...acc, ...resolve(spec, part), properties: { ...acc.properties, ...resolve(spec, part).properties } }), {});
  return s;
}

/** A plausible value for a schema, so each mutation changes one thing at a time. */
function sample(spec: OpenApi, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(spec, schema);
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  const branch = s.anyOf ?? s.oneOf;
  if (branch) return sample(spec, branch[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      if (depth > 4) return {};
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(s.properties ?? {})) out[key] = sample(spec, prop, depth + 1);
      return out;
    }
    case 'array':
      return depth > 4 ? [] : [sample(spec, s.items, depth + 1)];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'string':
      return s.format === 'uuid' ? '00000000-0000-4000-8000-000000000000' : s.format === 'date-time' ? new Date().toISOString() : 'sweep';
    default:
      return 'sweep';
  }
}

/** The wrong-type, hostile and out-of-range values tried in place of one field. */
function hostileValues(): unknown[] {
  return [NUL, LONE_SURROGATE, HUGE, '', ...NUMBERS, true, null, [], {}, { __proto__: { admin: true } }, ['x', NUL]];
}

interface Probe {
  label: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string;
}

function probesFor(spec: OpenApi, method: string, template: string, op: Operation): Probe[] {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  // Overrides are already percent-encoded, so malformed encodings reach the server as sent.
  const fill = (overrides: Record<string, string> = {}) =>
    template.replace(/\{(\w+)\}/g, (_, name: string) => overrides[name] ?? encodeURIComponent(String(sample(spec, pathParams.find((p) => p.name === name)?.schema))));
  const baseQuery = Object.fromEntries(queryParams.filter((p) => p.required).map((p) => [p.name, encodeURIComponent(String(sample(spec, p.schema)))]));
  const schema = op.requestBody?.content?.['application/json']?.schema;
  const baseBody = schema ? sample(spec, schema) : undefined;
  const body = baseBody === undefined ? undefined : JSON.stringify(baseBody);
  const M = method.toUpperCase();
  const probes: Probe[] = [{ label: 'as described', method: M, path: fill(), query: baseQuery, body }];

  for (const p of pathParams) {
    for (const value of RAW_HOSTILE) {
      probes.push({ label: `path ${p.name}=${value.slice(0, 12)}`, method: M, path: fill({ [p.name]: value }), query: baseQuery, body });
    }
  }
  for (const p of queryParams) {
    for (const value of [...RAW_HOSTILE, '1e308', '', '%5Bobject%20Object%5D']) {
      probes.push({ label: `query ${p.name}=${value.slice(0, 12)}`, method: M, path: fill(), query: { ...baseQuery, [p.name]: value }, body });
    }
  }
  probes.push({ label: 'unknown query parameter', method: M, path: fill(), query: { ...baseQuery, sweep_unknown: '1' }, body });

  if (schema) {
    for (const raw of ['{"a":', 'not json', '', 'null', '[]', '"text"', '1e999', DEEP, '{"__proto__":{"admin":true}}']) {
      probes.push({ label: `body ${raw.slice(0, 12) || '(empty)'}`, method: M, path: fill(), query: baseQuery, body: raw });
    }
    if (baseBody && typeof baseBody === 'object' && !Array.isArray(baseBody)) {
      for (const key of Object.keys(baseBody)) {
        for (const value of hostileValues()) {
          probes.push({ label: `body.${key}=${JSON.stringify(value)?.slice(0, 12)}`, method: M, path: fill(), query: baseQuery, body: JSON.stringify({ ...baseBody, [key]: value }) });
        }
      }
    }
  }
  return probes;
}

function isProblem(contentType: string | null, text: string): boolean {
  if (!contentType?.startsWith('application/problem+json')) return false;
  try {
    const body = JSON.parse(text) as { code?: unknown; status?: unknown; title?: unknown; request_id?: unknown };
    return typeof body.code === 'string' && CODES.has(body.code) && typeof body.status === 'number' && typeof body.title === 'string' && typeof body.request_id === 'string';
  } catch {
    return false;
  }
}

export async function sweep(url: string, token: string, options: { concurrency?: number } = {}): Promise<SweepReport> {
  const spec = (await (await fetch(`${url}/openapi.json`)).json()) as OpenApi;
  const probes: Probe[] = [];
  let operations = 0;
  for (const [template, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (SKIP.has(`${method.toUpperCase()} ${template}`)) continue;
      operations++;
      probes.push(...probesFor(spec, method, template, op));
    }
  }
  const report: SweepReport = { operations, requests: 0, statuses: {}, failures: [] };
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const probe = probes[next++]!;
      const query = Object.entries(probe.query ?? {}).map(([k, v]) => `${k}=${v}`).join('&');
      const target = url + probe.path + (query ? `?${query}` : '');
      const res = await fetch(target, {
        method: probe.method,
        headers: { authorization: `Bearer ${token}`, ...(probe.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: probe.method === 'GET' || probe.method === 'HEAD' ? undefined : probe.body,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      report.requests++;
      report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
      const broken = res.status >= 500 || (res.status >= 400 && !isProblem(res.headers.get('content-type'), text));
      if (broken) report.failures.push({ request: `${probe.method} ${probe.path.slice(0, 120)} [${probe.label}]`, status: res.status, body: text.slice(0, 300) });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return report;
}
