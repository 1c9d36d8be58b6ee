import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../config/env.ts';
import { ApiError } from './errors.ts';
import type { FieldProblem } from './errors.ts';

// Postgres refuses NUL in text, and an unpaired surrogate is not text at all: either would be a
// failure deep in a handler (a 500, or half a write). Refused here, once, for every operation.
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MESSAGE = 'Text may not contain NUL characters or unpaired surrogates.';

function walk(value: unknown, pointer: string, out: FieldProblem[]): void {
  if (out.length >= 20) return;
  if (typeof value === 'string') {
    if (UNSAFE.test(value)) out.push({ pointer, message: MESSAGE });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${pointer}/${i}`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (UNSAFE.test(key)) out.push({ pointer: `${pointer}/${key}`, message: `A field name: ${MESSAGE}` });
      walk(item, `${pointer}/${key}`, out);
    }
  }
}

/**
 * Every text a request carries — path, query and JSON body — is checked before any route sees
 * it. An unparsable body is left to the route's validator, which answers malformed_json.
 */
export const refuseUnsafeText = createMiddleware<AppEnv>(async (c, next) => {
  const problems: FieldProblem[] = [];
  let path: string;
  try {
    path = decodeURIComponent(c.req.path);
  } catch {
    throw new ApiError('bad_request', 'The request path is not valid percent-encoded UTF-8.');
  }
  if (UNSAFE.test(path)) problems.push({ pointer: 'path', message: MESSAGE });
  for (const [name, values] of Object.entries(c.req.queries())) {
    walk(name, `query/${name}`, problems);
    values.forEach((v) => walk(v, `query/${name}`, problems));
  }
  if (/\bjson\b/i.test(c.req.header('content-type') ?? '')) {
    // c.req.json() keeps its parse, so the route's validator reads this one instead of parsing again.
    const body = await c.req.json().then(
      (value: unknown) => ({ value }),
      // malformed_json comes from the validator, with the route's own wording.
      () => null,
    );
    if (body) walk(body.value, 'body', problems);
  }
  if (problems.length > 0) throw new ApiError('validation_failed', MESSAGE, { errors: problems });
  await next();
});
