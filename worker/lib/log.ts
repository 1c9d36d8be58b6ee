/**
 * The one structured logger. Every line is a single JSON object with `level`, `msg` and the
 * logger's bound fields (a request's logger always carries `request_id` and `route`), so a log
 * search by request id finds everything one request did, whichever module wrote it.
 *
 * Secrets never reach a line: fields whose name looks like a credential are replaced, errors are
 * reduced to their name and a capped message, and long strings are cut.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (a component, a metric, a dashboard). */
  child(fields: LogFields): Logger;
}

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|credential|signature|session_secret/i;
const MAX_STRING = 500;

/** What an error may say in a log: its name, its (capped) message and a stable code if it has one. */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) {
    const out: LogFields = { name: err.name, message: cap(err.message) };
    for (const key of ['code', 'kind', 'dependency', 'reason'] as const) {
      const value = (err as unknown as Record<string, unknown>)[key];
      if (typeof value === 'string' || typeof value === 'number') out[key] = value;
    }
    return out;
  }
  // WebSocket failures arrive as ErrorEvent-like objects, not Errors.
  const message = (err as { message?: unknown } | null)?.message;
  return { message: cap(typeof message === 'string' && message ? message : String(err)) };
}

function cap(text: string): string {
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
}

function clean(value: unknown, depth: number): unknown {
  if (value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value && 'type' in value)) {
    return errorFields(value);
  }
  if (typeof value === 'string') return cap(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= 4) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => clean(v, depth + 1));
  const out: LogFields = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? '[redacted]' : clean(v, depth + 1);
  return out;
}

type Sink = (level: LogLevel, line: string) => void;

const consoleSink: Sink = (level, line) => {
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
};

let sink: Sink = consoleSink;

/** Tests capture lines here; returns a function that restores the console. */
export function captureLogs(into: (entry: LogFields) => void): () => void {
  sink = (_level, line) => into(JSON.parse(line) as LogFields);
  return () => {
    sink = consoleSink;
  };
}

/** `base` may be a function so a request's logger reads the route once routing has matched. */
export function createLogger(base: LogFields | (() => LogFields) = {}): Logger {
  const fields = typeof base === 'function' ? base : () => base;
  const write = (level: LogLevel, msg: string, extra?: LogFields) => {
    const entry = clean({ level, msg, ...fields(), ...extra }, 0) as LogFields;
    sink(level, JSON.stringify(entry));
  };
  return {
    debug: (msg, extra) => write('debug', msg, extra),
    info: (msg, extra) => write('info', msg, extra),
    warn: (msg, extra) => write('warn', msg, extra),
    error: (msg, extra) => write('error', msg, extra),
    child: (more) => createLogger(() => ({ ...fields(), ...more })),
  };
}

/** For code that runs outside a request (Durable Objects, boot checks); name the component. */
export const rootLogger = createLogger();
