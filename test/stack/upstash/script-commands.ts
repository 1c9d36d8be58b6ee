import { argText, failed, ok } from './backend.ts';
import type { Arg, Command, Outcome, Reply } from './backend.ts';
import { NOSCRIPT_MESSAGE } from './scripts.ts';
import type { ScriptRegistry, ScriptTarget } from './scripts.ts';

/** How one command is carried out once scripting commands have been translated for the backend. */
export type Plan =
  | {
      readonly kind: 'send';
      readonly command: Command;
      /** Sent instead when the backend answers NOSCRIPT (its script cache was flushed behind our back). */
      readonly fallback?: Command;
      /** Rewrites the backend's reply into what the client expects. */
      readonly reply?: (reply: Reply) => Reply;
    }
  | { readonly kind: 'answer'; readonly outcome: Outcome };

export interface PlanContext {
  readonly registry: ScriptRegistry;
  readonly target: ScriptTarget;
  /**
   * Inside a pipeline or transaction a NOSCRIPT cannot be retried in place without reordering, so known
   * scripts are sent in full there.
   */
  readonly batched: boolean;
}

/** Translates EVAL/EVALSHA/SCRIPT for the backend; any other command is sent as it is. */
export function planCommand(command: Command, context: PlanContext): Plan {
  const name = command[0].toUpperCase();
  const args = command.slice(1) as Arg[];
  switch (name) {
    case 'EVAL':
    case 'EVAL_RO':
      return planEval(name, args, context);
    case 'EVALSHA':
    case 'EVALSHA_RO':
      return planEvalSha(name, args, context);
    case 'SCRIPT':
      return planScript(args, context);
    default:
      return { kind: 'send', command };
  }
}

function planEval(name: 'EVAL' | 'EVAL_RO', args: Arg[], { registry, target }: PlanContext): Plan {
  if (args.length < 2) return wrongArity(name);
  const prepared = registry.register(argText(args[0]));
  // The in-memory VM has only EVAL; read-only-ness is not enforced there.
  const sentName = target === 'memory' ? 'EVAL' : name;
  return { kind: 'send', command: [sentName, prepared.body, ...args.slice(1)] };
}

function planEvalSha(name: 'EVALSHA' | 'EVALSHA_RO', args: Arg[], { registry, target, batched }: PlanContext): Plan {
  if (args.length < 2) return wrongArity(name);
  const prepared = registry.lookup(argText(args[0]));
  const evalName = name === 'EVALSHA' || target === 'memory' ? 'EVAL' : 'EVAL_RO';
  if (!prepared) {
    // A real Redis may know scripts loaded by other clients; the memory store knows only ours.
    return target === 'redis'
      ? { kind: 'send', command: [name, ...args] }
      : { kind: 'answer', outcome: failed(NOSCRIPT_MESSAGE) };
  }
  const inFull: Command = [evalName, prepared.body, ...args.slice(1)];
  if (target === 'memory' || batched) return { kind: 'send', command: inFull };
  return { kind: 'send', command: [name, prepared.bodySha, ...args.slice(1)], fallback: inFull };
}

function planScript(args: Arg[], { registry, target }: PlanContext): Plan {
  const sub = argText(args[0]).toUpperCase();
  const rest = args.slice(1);
  if (sub === 'LOAD') {
    if (rest.length !== 1) return wrongArity('SCRIPT|LOAD');
    const prepared = registry.register(argText(rest[0]));
    // The client computed the hash of what it sent and will use that one with EVALSHA.
    if (target === 'memory') return { kind: 'answer', outcome: ok(prepared.originalSha) };
    return { kind: 'send', command: ['SCRIPT', 'LOAD', prepared.body], reply: () => prepared.originalSha };
  }
  if (sub === 'EXISTS') {
    if (rest.length === 0) return wrongArity('SCRIPT|EXISTS');
    const shas = rest.map(argText);
    if (target === 'memory') return { kind: 'answer', outcome: ok(shas.map((sha) => (registry.lookup(sha) ? 1 : 0))) };
    return { kind: 'send', command: ['SCRIPT', 'EXISTS', ...shas.map((sha) => registry.lookup(sha)?.bodySha ?? sha)] };
  }
  if (sub === 'FLUSH') {
    registry.clear();
    if (target === 'memory') return { kind: 'answer', outcome: ok('OK') };
    return { kind: 'send', command: ['SCRIPT', ...args] };
  }
  if (target === 'memory') {
    return { kind: 'answer', outcome: failed(`ERR unknown subcommand '${argText(args[0])}'. Try SCRIPT HELP.`) };
  }
  return { kind: 'send', command: ['SCRIPT', ...args] };
}

function wrongArity(name: string): Plan {
  return { kind: 'answer', outcome: failed(`ERR wrong number of arguments for '${name.toLowerCase()}' command`) };
}
