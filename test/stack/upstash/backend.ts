/** One argument of a Redis command: text from a JSON body, or raw bytes from a path-form request body. */
export type Arg = string | Buffer;

/** A command as the client sent it: name first. */
export type Command = readonly [name: string, ...args: Arg[]];

/** A reply as the backend produced it, before it is shaped into JSON for the client. */
export type Reply = Buffer | string | number | null | Error | readonly Reply[];

export type Outcome =
  | { readonly ok: true; readonly reply: Reply }
  // `unavailable` marks a failure to reach the store (not the store refusing the command).
  | { readonly ok: false; readonly error: string; readonly unavailable?: boolean };

export type TransactionOutcome =
  | { readonly committed: true; readonly outcomes: Outcome[] }
  | { readonly committed: false; readonly error: string; readonly unavailable?: boolean };

export type BackendMode = 'redis' | 'memory';

/** The store behind the REST server: a real Redis, or an in-memory stand-in. */
export interface Backend {
  readonly mode: BackendMode;
  run(command: Command): Promise<Outcome>;
  /** In order, not atomic: other clients' commands may interleave. */
  pipeline(commands: readonly Command[]): Promise<Outcome[]>;
  /** Atomic, as MULTI/EXEC. */
  transaction(commands: readonly Command[]): Promise<TransactionOutcome>;
  /** Whether a real Redis answers PING within the time; always false in memory mode. */
  redisReachable(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function ok(reply: Reply): Outcome {
  return { ok: true, reply };
}

export function failed(error: string, unavailable = false): Outcome {
  return unavailable ? { ok: false, error, unavailable } : { ok: false, error };
}

export function argText(arg: Arg | undefined): string {
  if (arg === undefined) return '';
  return typeof arg === 'string' ? arg : arg.toString('utf8');
}

// Commands that change the state of the connection they run on. The server shares one connection
// between all HTTP requests, so these would leak from one request into the next.
const CONNECTION_STATE_COMMANDS = new Set(
  (
    'select swapdb multi exec discard watch unwatch subscribe psubscribe ssubscribe unsubscribe punsubscribe ' +
    'sunsubscribe monitor quit reset auth hello client readonly readwrite shutdown sync psync replicaof slaveof debug'
  ).split(' '),
);

/** The error to answer instead of running the command, or null when it may run. */
export function refusal(command: Command): string | null {
  const name = command[0].toLowerCase();
  return CONNECTION_STATE_COMMANDS.has(name) ? `ERR Command is not available: '${name}'` : null;
}
