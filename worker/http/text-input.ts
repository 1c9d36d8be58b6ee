import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../config/env.ts';
import { ApiError } from './errors.ts';
import type { FieldProblem } from './errors.ts';

// Postgres refuses NUL in text, and an unpaired surrogate is not text at all: either would be a
// failure deep in a handler (a 500, or half a write). Refused here, once, for every operation.
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MESSAGE = 'Text may not contain NUL characters or unpaired surrogates.';

/** JSON nested deeper than any operation's schema is refused before anything recurses into it. */
export const MAX_JSON_DEPTH = 32;

/** Iterative, so a hostile body nested 20,000 levels deep costs a loop, not the stack. */
function walk(root: unknown, rootPointer: string, out: FieldProblem[]): void {
  const stack: Array<{ value: unknown; pointer: string; depth: number }> = [{ value: root, pointer: rootPointer, depth: 0 }];
  while (stack.length > 0 && out.length < 20) {
    const { value, pointer, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSAFE.test(value)) out.push({ pointer, message: MESSAGE });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      out.push({ pointer, message: `Nested deeper than ${MAX_JSON_DEPTH} levels.` });
      return;
    }
    const entries = Array.isArray(value) ? value.map((item, i) => [String(i), item] as const) : Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      if (!Array.isArray(value) && UNSAFE.test(key)) out.push({ pointer: `${pointer}/${key}`, message: `A field name: ${MESSAGE}` });
      stack.push({ value: item, pointer: `${pointer}/${key}`, depth: depth + 1 });
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
  if (problems.length > 0) throw new ApiError('validation_failed', problems[0]!.message, { errors: problems });
  await next();
});
