import { z } from 'zod';
import type { Arg, Command } from './backend.ts';

export type ParsedRequest =
  | { readonly kind: 'single'; readonly command: Command }
  | { readonly kind: 'pipeline' | 'transaction'; readonly commands: Command[] }
  | { readonly kind: 'invalid'; readonly status: 400 | 405; readonly error: string };

// The client sends strings, numbers and booleans as they are; Redis sees each as its text.
const argument = z.union([z.string(), z.number(), z.boolean()]);
const commandSchema = z.tuple([z.string().min(1)], argument);
const batchSchema = z.array(commandSchema).min(1);

const COMMAND_SHAPE = 'a command is a JSON array of strings and numbers, the command name first';

function toCommand([name, ...args]: z.infer<typeof commandSchema>): Command {
  return [name, ...args.map((arg) => (typeof arg === 'string' ? arg : String(arg)))];
}

function invalid(error: string, status: 400 | 405 = 400): ParsedRequest {
  return { kind: 'invalid', status, error };
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, error: `ERR failed to parse the request body as JSON: ${(error as Error).message}` };
  }
}

/** Turns an HTTP request into the command(s) it carries, in any of the forms the Upstash REST API takes. */
export function parseRequest(method: string, url: URL, body: Buffer): ParsedRequest {
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  if (!['GET', 'HEAD', 'POST', 'PUT'].includes(method)) return invalid(`ERR method ${method} is not allowed`, 405);

  if (segments.length === 1 && (segments[0] === 'pipeline' || segments[0] === 'multi-exec')) {
    if (method !== 'POST') return invalid(`ERR /${segments[0]} takes POST`, 405);
    const json = parseJson(body);
    if (!json.ok) return invalid(json.error);
    const batch = batchSchema.safeParse(json.value);
    if (!batch.success) return invalid(`ERR invalid request body: a non-empty JSON array of commands is expected; ${COMMAND_SHAPE}`);
    return { kind: segments[0] === 'pipeline' ? 'pipeline' : 'transaction', commands: batch.data.map(toCommand) };
  }

  if (segments.length === 0) {
    if (method !== 'POST' && method !== 'PUT') return invalid('ERR no command given: POST a JSON array command to /');
    const json = parseJson(body);
    if (!json.ok) return invalid(json.error);
    const command = commandSchema.safeParse(json.value);
    if (!command.success) return invalid(`ERR invalid request body: ${COMMAND_SHAPE}`);
    return { kind: 'single', command: toCommand(command.data) };
  }

  // Path form: /set/key/value, with a POST body as the last argument and query parameters after it.
  let decoded: string[];
  try {
    decoded = segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return invalid('ERR the request path is not valid percent-encoding');
  }
  const [name, ...pathArgs] = decoded as [string, ...string[]];
  const args: Arg[] = [...pathArgs];
  if (body.length > 0) args.push(body);
  for (const [key, value] of url.searchParams) {
    if (key === '_token') continue;
    args.push(key);
    if (value !== '') args.push(value);
  }
  return { kind: 'single', command: [name, ...args] };
}
