import { Redis, ReplyError } from 'ioredis';
import { argText, failed, ok, refusal } from './backend.ts';
import type { Backend, Command, Outcome, Reply, TransactionOutcome } from './backend.ts';
import { planCommand } from './script-commands.ts';
import type { Plan } from './script-commands.ts';
import { ScriptRegistry } from './scripts.ts';

// These hold their connection until they return, so each one gets a connection of its own rather than
// stalling every other request on the shared one.
const BLOCKING_COMMANDS = new Set(
  'blpop brpop brpoplpush blmove blmpop bzpopmin bzpopmax bzmpop wait waitaof'.split(' '),
);

function isBlocking(command: Command): boolean {
  const name = command[0].toLowerCase();
  if (BLOCKING_COMMANDS.has(name)) return true;
  return (name === 'xread' || name === 'xreadgroup') && command.slice(1).some((arg) => argText(arg).toUpperCase() === 'BLOCK');
}

/** Options shared by every connection: fail fast instead of queueing while Redis is away. */
export function connectionOptions(connectTimeoutMs: number) {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
  };
}

export async function createRedisBackend(url: string): Promise<Backend> {
  const client = new Redis(url, connectionOptions(1_000));
  // Connection errors are reported per request; without a listener ioredis would print them.
  client.on('error', () => {});
  await client.connect();
  const registry = new ScriptRegistry('redis');

  // Upper-case names keep ioredis from reshaping replies (it turns `hgetall` into an object) and from
  // tracking state for commands it knows by their lower-case name.
  function send(connection: Redis, command: Command): Promise<Reply> {
    const [name, ...args] = command;
    return connection.callBuffer(name.toUpperCase(), ...args) as Promise<Reply>;
  }

  async function execute(connection: Redis, plan: Plan): Promise<Outcome> {
    if (plan.kind === 'answer') return plan.outcome;
    try {
      const reply = await send(connection, plan.command);
      return ok(plan.reply ? plan.reply(reply) : reply);
    } catch (error) {
      if (plan.fallback && isReplyError(error) && error.message.startsWith('NOSCRIPT')) {
        return execute(connection, { kind: 'send', command: plan.fallback });
      }
      return fromError(error);
    }
  }

  async function runOn(command: Command, batched: boolean): Promise<Outcome> {
    const refused = refusal(command);
    if (refused) return failed(refused);
    const plan = planCommand(command, { registry, target: 'redis', batched });
    if (!isBlocking(command)) return execute(client, plan);
    const own = client.duplicate(connectionOptions(1_000));
    own.on('error', () => {});
    try {
      await own.connect();
      return await execute(own, plan);
    } catch (error) {
      return fromError(error);
    } finally {
      own.disconnect();
    }
  }

  return {
    mode: 'redis',
    run: (command) => runOn(command, false),
    async pipeline(commands) {
      const pending: Promise<Outcome>[] = [];
      for (const command of commands) {
        // Commands written to one connection run in the order written; a blocking one runs elsewhere,
        // so everything before it has to finish first to keep the order.
        if (isBlocking(command)) await Promise.all(pending);
        const outcome = runOn(command, true);
        if (isBlocking(command)) await outcome;
        pending.push(outcome);
      }
      return Promise.all(pending);
    },
    async transaction(commands) {
      const multi = client.multi();
      const answered = new Map<number, Outcome>();
      const reshape = new Map<number, (reply: Reply) => Reply>();
      let queued = 0;
      const slots: number[] = [];
      commands.forEach((command, index) => {
        const refused = refusal(command);
        if (refused) return answered.set(index, failed(refused));
        const plan = planCommand(command, { registry, target: 'redis', batched: true });
        if (plan.kind === 'answer') return answered.set(index, plan.outcome);
        const [name, ...args] = plan.command;
        multi.callBuffer(name.toUpperCase(), ...args);
        if (plan.reply) reshape.set(index, plan.reply);
        slots[index] = queued++;
      });
      // Only refusals are answered here, and Redis discards a whole transaction for one of those.
      const refusedEarly = [...answered.values()].find((outcome) => !outcome.ok);
      if (refusedEarly && !refusedEarly.ok) {
        return { committed: false, error: `EXECABORT Transaction discarded because of: ${refusedEarly.error}` };
      }
      let results: [Error | null, unknown][] | null;
      try {
        results = await multi.exec();
      } catch (error) {
        return abortedTransaction(error);
      }
      if (!results) return { committed: false, error: 'EXECABORT Transaction discarded' };
      const outcomes = commands.map((_, index): Outcome => {
        const early = answered.get(index);
        if (early) return early;
        const result = results[slots[index] ?? -1];
        if (!result) return failed('ERR no reply for command');
        const [error, reply] = result;
        if (error) return fromError(error);
        const shape = reshape.get(index);
        return ok(shape ? shape(reply as Reply) : (reply as Reply));
      });
      return { committed: true, outcomes };
    },
    async redisReachable(timeoutMs) {
      return pingWithin(client, timeoutMs);
    },
    async close() {
      try {
        await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
      } catch {
        // Already gone; disconnecting below is all that is left to do.
      }
      client.disconnect();
    },
  };
}

export async function pingWithin(connection: Redis, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([connection.ping().then((pong) => pong === 'PONG'), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

// ioredis types its ReplyError as `any`; this gives it back a shape.
const ReplyErrorClass = ReplyError as new (message?: string) => Error;

function isReplyError(error: unknown): error is Error & { previousErrors?: Error[] } {
  return error instanceof ReplyErrorClass;
}

function fromError(error: unknown): Outcome {
  if (isReplyError(error)) return failed(error.message);
  const message = error instanceof Error ? error.message : String(error);
  return failed(`ERR Redis is unavailable: ${message}`, true);
}

function abortedTransaction(error: unknown): TransactionOutcome {
  if (!isReplyError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return { committed: false, error: `ERR Redis is unavailable: ${message}`, unavailable: true };
  }
  // ioredis keeps the errors that made Redis discard the transaction; the first one says why.
  const previous = error.previousErrors?.[0];
  return { committed: false, error: previous ? `${error.message} ${previous.message}` : error.message };
}
