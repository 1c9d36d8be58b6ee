import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { argText, failed, ok, refusal } from './backend.ts';
import type { Arg, Backend, Command, Outcome, Reply } from './backend.ts';
import { planCommand } from './script-commands.ts';
import { ScriptRegistry } from './scripts.ts';

type KeyType = 'string' | 'hash' | 'list' | 'set' | 'zset';

// The in-memory store does not check what kind of value a key holds; Redis does, and code under test
// must see WRONGTYPE here as it would there. Only the first key of each command is checked.
const FIRST_KEY_TYPE = new Map<string, KeyType>();
const TYPED_COMMANDS: Record<KeyType, string> = {
  string: 'get getrange getset getdel getex strlen append setrange incr incrby incrbyfloat decr decrby getbit setbit bitcount bitpos',
  hash: 'hdel hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield hscan hset hsetnx hstrlen hvals',
  list: 'lindex linsert llen lmove lpop lpos lpush lpushx lrange lrem lset ltrim rpop rpoplpush rpush rpushx',
  set: 'sadd scard sismember smembers smismember spop srandmember srem sscan',
  zset:
    'zadd zcard zcount zincrby zlexcount zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore zrank zrem ' +
    'zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore',
};
for (const [type, names] of Object.entries(TYPED_COMMANDS) as [KeyType, string][]) {
  for (const name of names.split(' ')) FIRST_KEY_TYPE.set(name, type);
}

// The in-memory store only understands upper-case options, where Redis takes any case (and the Upstash
// client sends lower case). Position = index in the arguments (after the name) where options may start.
const OPTION_KEYWORDS = new Set(
  'NX XX GT LT CH INCR EX PX EXAT PXAT KEEPTTL GET PERSIST WITHSCORES BYSCORE BYLEX REV LIMIT MATCH COUNT TYPE'.split(' '),
);
const OPTIONS_FROM = new Map<string, number>([
  ['set', 2],
  ['getex', 1],
  ['expire', 2],
  ['pexpire', 2],
  ['expireat', 2],
  ['pexpireat', 2],
  ['zadd', 1],
  ['zrange', 3],
  ['scan', 1],
  ['hscan', 2],
  ['sscan', 2],
  ['zscan', 2],
]);

function withUpperCaseOptions(name: string, args: Arg[]): Arg[] {
  const from = OPTIONS_FROM.get(name);
  if (from === undefined) return args;
  return args.map((arg, index) => {
    if (index < from || typeof arg !== 'string') return arg;
    const upper = arg.toUpperCase();
    return OPTION_KEYWORDS.has(upper) ? upper : arg;
  });
}

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_AN_INTEGER = 'ERR value is not an integer or out of range';
const NOT_A_FLOAT = 'ERR value is not a valid float';
const SCRIPTING = new Set(['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'script']);

type Method = (...args: Arg[]) => Promise<unknown>;

export function createMemoryBackend(): Backend {
  // Instances of the in-memory store share data per host:port; a unique host keeps each server apart.
  const store = new RedisMock({ host: `upstash-memory-${randomUUID()}`, lazyConnect: true });
  const methods = store as unknown as Record<string, unknown>;
  const known = new Set(Redis.prototype.getBuiltinCommands());
  const registry = new ScriptRegistry('memory');

  // Every command runs alone, so a transaction is atomic simply by running its commands back to back.
  let tail: Promise<unknown> = Promise.resolve();
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = tail.then(work, work);
    tail = result.catch(() => undefined);
    return result;
  }

  function unknownCommand(command: Command): string | null {
    const name = command[0].toLowerCase();
    if (SCRIPTING.has(name) || (known.has(name) && typeof methods[name] === 'function')) return null;
    const shown = command
      .slice(1)
      .map((arg) => `'${argText(arg)}'`)
      .join(' ');
    return `ERR unknown command '${command[0]}', with args beginning with: ${shown}${shown ? ' ' : ''}`;
  }

  async function mismatch(command: Command): Promise<string | null> {
    const name = command[0].toLowerCase();
    const key = command[1];
    if (key === undefined) return null;
    const expected = FIRST_KEY_TYPE.get(name);
    if (expected) {
      const actual: unknown = await store.type(argText(key));
      // The store reports no type for values it holds as bytes; those are strings.
      const known = actual === 'none' || actual === undefined ? null : actual;
      if (known !== null && known !== expected) return WRONGTYPE;
    }
    const current = async () => (await store.get(argText(key))) ?? '0';
    switch (name) {
      case 'incr':
      case 'decr':
        return isInteger(await current()) ? null : NOT_AN_INTEGER;
      case 'incrby':
      case 'decrby':
        return isInteger(argText(command[2])) && isInteger(await current()) ? null : NOT_AN_INTEGER;
      case 'incrbyfloat':
        return isFloat(argText(command[2])) && isFloat(await current()) ? null : NOT_A_FLOAT;
      case 'hincrby': {
        const field = (await store.hget(argText(key), argText(command[2]))) ?? '0';
        return isInteger(argText(command[3])) && isInteger(field) ? null : NOT_AN_INTEGER;
      }
      case 'hincrbyfloat': {
        const field = (await store.hget(argText(key), argText(command[2]))) ?? '0';
        if (!isFloat(argText(command[3]))) return NOT_A_FLOAT;
        return isFloat(field) ? null : 'ERR hash value is not a float';
      }
      default:
        return null;
    }
  }

  async function dispatch(command: Command): Promise<Outcome> {
    const refused = refusal(command) ?? unknownCommand(command);
    if (refused) return failed(refused);
    const plan = planCommand(command, { registry, target: 'memory', batched: false });
    if (plan.kind === 'answer') return plan.outcome;
    const [name, ...args] = plan.command;
    const lower = name.toLowerCase();
    const wrong = await mismatch(plan.command);
    if (wrong) return failed(wrong);
    // The `…Buffer` variants hand back bytes rather than decoded text, which keeps values byte-exact.
    const method = (methods[`${lower}Buffer`] ?? methods[lower]) as Method;
    try {
      const reply = await method.apply(store, withUpperCaseOptions(lower, args));
      return ok(lower === 'eval' ? fromLua(reply) : fromStore(reply));
    } catch (error) {
      return failed(errorText(error, plan.command));
    }
  }

  return {
    mode: 'memory',
    run: (command) => exclusive(() => dispatch(command)),
    pipeline: (commands) => Promise.all(commands.map((command) => exclusive(() => dispatch(command)))),
    async transaction(commands) {
      // Redis refuses the whole transaction when a command cannot even be queued.
      for (const command of commands) {
        const refused = refusal(command) ?? unknownCommand(command);
        if (refused) return { committed: false, error: `EXECABORT Transaction discarded because of: ${refused}` };
      }
      return exclusive(async () => {
        const outcomes: Outcome[] = [];
        for (const command of commands) outcomes.push(await dispatch(command));
        return { committed: true, outcomes };
      });
    },
    async redisReachable() {
      return false;
    },
    async close() {
      await exclusive(() => store.flushall());
      store.disconnect();
    },
  };
}

function isInteger(text: string): boolean {
  return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text));
}

function isFloat(text: string): boolean {
  return text.trim() === text && text !== '' && Number.isFinite(Number(text));
}

/** Shapes the store's JavaScript values as RESP2 would carry them. */
function fromStore(value: unknown): Reply {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value as Buffer;
  // RESP2 has no floating-point type: Redis answers those as bulk strings.
  if (typeof value === 'number') return Number.isInteger(value) ? value : String(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) return value.map(fromStore);
  if (value instanceof Error) return value;
  if (typeof value === 'object') return Object.entries(value).flatMap(([field, item]): Reply[] => [field, fromStore(item)]);
  return String(value);
}

/** Applies Redis's Lua-to-RESP conversion: numbers become integers, false becomes nil, true becomes 1. */
function fromLua(value: unknown): Reply {
  if (typeof value === 'number') return Math.trunc(value);
  if (value === false) return null;
  if (value === true) return 1;
  if (Array.isArray(value)) {
    // A Lua array ends at its first nil (false is a value, answered as a nil bulk string).
    const end = value.findIndex((item) => item === null || item === undefined);
    return (end === -1 ? value : value.slice(0, end)).map(fromLua);
  }
  return fromStore(value);
}

function errorText(error: unknown, command: Command): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('Unsupported command')) {
    return `ERR unknown command '${command[0]}', with args beginning with: `;
  }
  // Redis errors start with an upper-case code (ERR, WRONGTYPE, NOSCRIPT…); the store's own do not.
  return /^[A-Z]+ /.test(message) ? message : `ERR ${message}`;
}
