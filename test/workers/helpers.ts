import { exports } from 'cloudflare:workers';
import { z } from 'zod';

export const ProblemShape = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  code: z.string(),
  request_id: z.string(),
  errors: z.array(z.object({ pointer: z.string(), message: z.string() })).optional(),
});

export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, 'http://cc.test'), init));
}

/** Asserts a problem+json answer and returns it parsed. */
export async function expectProblem(res: Response, status: number, code: string) {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${res.status}: ${text}`);
  const ct = res.headers.get('content-type') ?? '';
  if (!ct.startsWith('application/problem+json')) throw new Error(`expected problem+json, got ${ct}: ${text}`);
  const body = ProblemShape.parse(JSON.parse(text));
  if (body.code !== code) throw new Error(`expected code ${code}, got ${body.code}: ${text}`);
  if (/\n\s+at /.test(text)) throw new Error(`problem leaks a stack trace: ${text}`);
  return body;
}
