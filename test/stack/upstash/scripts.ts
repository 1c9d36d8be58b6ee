import { createHash } from 'node:crypto';

// Shebang flags Redis 7.0 understands. Newer servers (and Upstash) accept more, e.g. `allow-key-locking`;
// 7.0 rejects the whole script for one flag it does not know, so those are dropped before the script
// reaches it. Dropping a flag only relaxes a hint, never changes what the script does.
const REDIS_70_FLAGS = new Set(['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys']);

export type ScriptTarget = 'redis' | 'memory';

export interface PreparedScript {
  /** sha1 of the script as the client sent it: the hash the client will use with EVALSHA. */
  readonly originalSha: string;
  /** What is actually sent to the backend. */
  readonly body: string;
  /** sha1 of `body`, the hash the backend knows the script by. */
  readonly bodySha: string;
}

export function sha1Hex(script: string): string {
  return createHash('sha1').update(script, 'utf8').digest('hex');
}

/**
 * Rewrites the shebang line so the backend accepts the script. The line itself is kept (possibly
 * empty) so that line numbers in Lua error messages still match the client's source.
 */
export function prepareScript(script: string, target: ScriptTarget): PreparedScript {
  const originalSha = sha1Hex(script);
  if (!script.startsWith('#!')) return { originalSha, body: script, bodySha: originalSha };
  const lineEnd = script.indexOf('\n');
  const firstLine = lineEnd === -1 ? script : script.slice(0, lineEnd);
  const rest = lineEnd === -1 ? '' : script.slice(lineEnd);
  const [engine, ...options] = firstLine.slice(2).trim().split(/\s+/);
  // Anything but Lua is left for the backend to reject in its own words.
  if (engine !== 'lua') return { originalSha, body: script, bodySha: originalSha };
  let replacement: string;
  if (target === 'memory') {
    // The in-memory Lua VM has no notion of shebangs at all.
    replacement = '';
  } else {
    const kept: string[] = [];
    const others: string[] = [];
    for (const option of options) {
      if (option.startsWith('flags=')) {
        kept.push(...option.slice('flags='.length).split(',').filter((flag) => REDIS_70_FLAGS.has(flag)));
      } else {
        others.push(option);
      }
    }
    replacement = ['#!lua', ...(kept.length > 0 ? [`flags=${kept.join(',')}`] : []), ...others].join(' ');
  }
  const body = replacement + rest;
  return { originalSha, body, bodySha: body === script ? originalSha : sha1Hex(body) };
}

/**
 * Scripts this server has seen (via EVAL or SCRIPT LOAD), by the hash the client knows them by.
 * Redis caches EVAL'd scripts too, so EVALSHA after EVAL must work here as well.
 */
export class ScriptRegistry {
  readonly #byOriginalSha = new Map<string, PreparedScript>();
  readonly #target: ScriptTarget;

  constructor(target: ScriptTarget) {
    this.#target = target;
  }

  register(script: string): PreparedScript {
    const prepared = prepareScript(script, this.#target);
    this.#byOriginalSha.set(prepared.originalSha, prepared);
    return prepared;
  }

  lookup(sha: string): PreparedScript | undefined {
    return this.#byOriginalSha.get(sha.toLowerCase());
  }

  clear(): void {
    this.#byOriginalSha.clear();
  }
}

export const NOSCRIPT_MESSAGE = 'NOSCRIPT No matching script. Please use EVAL.';
