import scenariosYaml from '../../config/incident_scenarios.yaml?raw';
import { bundledDictionary } from '../config/bundled.ts';
import { checkPlaybook, SCENARIOS_FILE } from './scenarios.ts';
import type { Playbook } from './scenarios.ts';

export const BUNDLED_SCENARIOS_YAML: string = scenariosYaml;

/**
 * The checked-in scenarios, checked when the worker loads: a broken file stops the worker from
 * starting (`wrangler dev` shows every problem with its line, and a deploy is refused at upload),
 * so no request ever meets it. `npm run check` finds the same problems before a deploy.
 */
export function loadPlaybook(text: string): Playbook {
  const checked = checkPlaybook(text, bundledDictionary());
  if (!checked.ok) throw new Error(`${SCENARIOS_FILE} is invalid:\n${checked.problems.join('\n')}`);
  return checked.playbook;
}

const PLAYBOOK: Playbook = loadPlaybook(BUNDLED_SCENARIOS_YAML);

/** The checked-in scenarios with the file's defaults applied. */
export function bundledPlaybook(): Playbook {
  return PLAYBOOK;
}
