import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadDictionary } from '../worker/dictionary/load.ts';
import { checkPlaybook, SCENARIOS_FILE } from '../worker/incidents/scenarios.ts';
import { DICTIONARY_DIR, readDictionaryDir } from './dictionary-files.ts';

/**
 * The scenarios gate, before deploy: config/incident_scenarios.yaml checked as the worker checks
 * it when it loads (worker/incidents/playbook.ts), against the data dictionary on disk. Prints
 * every problem as `file:line:col path: message` and exits non-zero on any.
 */
export function checkScenariosFile(path = fileURLToPath(new URL('../config/incident_scenarios.yaml', import.meta.url))): boolean {
  const result = checkPlaybook(readFileSync(path, 'utf8'), loadDictionary(readDictionaryDir(DICTIONARY_DIR)));
  if (!result.ok) {
    for (const p of result.problems) console.error(`error: ${p}`);
    console.error(`check failed: ${SCENARIOS_FILE} is invalid`);
    return false;
  }
  console.log(`scenarios: ${result.playbook.scenarios.size} scenarios and the custom playbook valid`);
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(checkScenariosFile() ? 0 : 1);
}
