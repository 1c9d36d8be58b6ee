import type { TestProject } from 'vitest/node';
import { startStack } from '../stack/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stackVars: Record<string, string>;
    stackControl: string;
  }
}

/** One local stack for the whole workers project; its addresses reach workerd as bindings. */
export default async function setup(project: TestProject) {
  const stack = await startStack({ purpose: 'test' });
  project.provide('stackVars', stack.vars);
  return async () => {
    await stack.close();
  };
}
