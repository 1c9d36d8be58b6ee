import { startStack } from './index.ts';
import type { StackOptions } from './index.ts';

/**
 * Runs the local stack as its own process and prints one JSON line with the worker variables
 * once it is ready. It stops when its stdin closes or on SIGTERM, so a parent that dies
 * takes it along.
 */
const purpose = (process.argv[2] ?? 'test') as StackOptions['purpose'];
const stack = await startStack({ purpose, log: (line) => process.stderr.write(`[stack] ${line}\n`) });
process.stdout.write(`${JSON.stringify({ ready: true, vars: stack.vars })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void stack.close().finally(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
