import type { TestProject } from 'vitest/node';
import { startStackProcess } from '../stack/process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stackVars: Record<string, string>;
  }
}

/** One local stack for the whole workers project; its addresses reach workerd as bindings. */
export default async function setup(project: TestProject) {
  const stack = await startStackProcess('test');
  project.provide('stackVars', stack.vars);
  return () => stack.stop();
}
