import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDatabricksClient } from '../worker/services/databricks/client.ts';
import { isDependencyError } from '../worker/http/errors.ts';
import { checkLakehouse } from '../worker/dictionary/live-check.ts';
import { checkDictionary } from '../worker/dictionary/load.ts';
import type { DictionaryFiles } from '../worker/dictionary/load.ts';
import { formatProblem } from '../worker/dictionary/schema.ts';
import type { Problem } from '../worker/dictionary/schema.ts';
import { DICTIONARY_DIR, readDictionaryDir } from './dictionary-files.ts';

/**
 * `npm run dictionary:validate [-- --dir <path>] [--live]`: structural checks of data-dictionary/*.csv,
 * one line per problem, non-zero exit on any error. With --live it also reads the lakehouse through the
 * production client (DATABRICKS_* from the environment, or a local stand-in started here when
 * DATABRICKS_HOST is unset) and checks every table and column exists with its declared type.
 */

export interface ValidateOutput {
  log(line: string): void;
  error(line: string): void;
}

function report(problems: Problem[], out: ValidateOutput): number {
  for (const problem of problems) (problem.severity === 'error' ? out.error : out.log)(formatProblem(problem));
  return problems.filter((problem) => problem.severity === 'error').length;
}

interface LiveTarget {
  host: string;
  token: string;
  warehouseId: string;
  close(): Promise<void>;
}

async function liveTarget(dir: string, env: NodeJS.ProcessEnv, out: ValidateOutput): Promise<LiveTarget> {
  if (env.DATABRICKS_HOST) {
    const missing = ['DATABRICKS_TOKEN', 'DATABRICKS_WAREHOUSE_ID'].filter((name) => !env[name]);
    if (missing.length > 0) throw new Error(`--live with DATABRICKS_HOST also needs ${missing.join(' and ')}`);
    return { host: env.DATABRICKS_HOST, token: env.DATABRICKS_TOKEN ?? '', warehouseId: env.DATABRICKS_WAREHOUSE_ID ?? '', close: async () => {} };
  }
  // Loaded only here: the stand-in pulls in DuckDB, which a real --live run never needs.
  const { startDatabricksStandIn } = await import('../test/stack/databricks/server.ts');
  const token = randomUUID();
  const standIn = await startDatabricksStandIn({ token, dictionaryDir: dir });
  out.log(`DATABRICKS_HOST is not set: checking the local stand-in at ${standIn.url}`);
  return { host: standIn.url, token, warehouseId: standIn.warehouseId, close: () => standIn.close() };
}

/** Runs the validation and returns the exit code; printing goes through `out` so tests can capture it. */
export async function runDictionaryValidate(argv: string[], env: NodeJS.ProcessEnv, out: ValidateOutput): Promise<number> {
  let args: { dir?: string | undefined; live?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values: args } = parseArgs({
      args: argv,
      options: { dir: { type: 'string' }, live: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    out.error((error as Error).message);
    return 2;
  }
  if (args.help) {
    out.log('usage: dictionary-validate [--dir <data-dictionary folder>] [--live]');
    return 0;
  }
  if (args.dir !== undefined) return validateFolder(path.resolve(args.dir), { live: args.live === true, standInDir: path.resolve(args.dir), followSchemaEnv: true }, env, out);
  // The repository's dictionary, then the marts' (data-dictionary/marts: another schema of the same
  // catalog, read by signal hydration rather than the query builder). Both live checks read the one
  // lakehouse the main dictionary describes.
  const main = await validateFolder(DICTIONARY_DIR, { live: args.live === true, standInDir: DICTIONARY_DIR, followSchemaEnv: true }, env, out);
  const marts = await validateFolder(path.join(DICTIONARY_DIR, MARTS_FOLDER), { live: args.live === true, standInDir: DICTIONARY_DIR, followSchemaEnv: false }, env, out);
  return Math.max(main, marts);
}

/** Sub-folder of data-dictionary/ describing workspace.support_marts. */
export const MARTS_FOLDER = 'marts';

interface FolderOptions {
  live: boolean;
  /** The dictionary a local stand-in is built from when DATABRICKS_HOST is unset. */
  standInDir: string;
  /** Whether DATABRICKS_CATALOG/DATABRICKS_SCHEMA relocate these tables (the app's own schema) or not (the marts). */
  followSchemaEnv: boolean;
}

async function validateFolder(dir: string, options: FolderOptions, env: NodeJS.ProcessEnv, out: ValidateOutput): Promise<number> {
  let files: DictionaryFiles;
  try {
    files = readDictionaryDir(dir);
  } catch (error) {
    out.error(`cannot read the data dictionary in ${dir}: ${(error as Error).message}`);
    return 2;
  }

  const { dictionary, problems } = checkDictionary(files);
  let errors = report(problems, out);
  if (!dictionary || errors > 0) {
    out.error(`${dir}: ${errors} error${errors === 1 ? '' : 's'}${options.live ? '; the live check was skipped' : ''}`);
    return 1;
  }
  out.log(`${dir}: ${dictionary.tables.length} tables, ${dictionary.columns.length} columns, ${dictionary.joins.length} joins, ${dictionary.metrics.length} metrics: structure ok`);
  if (!options.live) return 0;

  let target: LiveTarget;
  try {
    target = await liveTarget(options.standInDir, env, out);
  } catch (error) {
    out.error(`live check: ${(error as Error).message}`);
    return 2;
  }
  const catalog = (env.DATABRICKS_CATALOG || undefined);
  const schema = options.followSchemaEnv ? env.DATABRICKS_SCHEMA || undefined : undefined;
  try {
    const client = createDatabricksClient({
      host: target.host,
      token: target.token,
      warehouseId: target.warehouseId,
      catalog: catalog ?? (dictionary.tableDefinitions[0]?.catalog ?? 'workspace'),
      schema: schema ?? (dictionary.tableDefinitions[0]?.schema ?? 'default'),
    });
    const live = await checkLakehouse(dictionary, client, { catalog, schema });
    errors = report(live, out);
    const warnings = live.length - errors;
    out.log(`live check: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
    return errors > 0 ? 1 : 0;
  } catch (error) {
    // Client errors never carry the token; anything else is summarised to its message alone.
    out.error(`live check failed: ${isDependencyError(error, 'databricks') ? `${error.kind}: ${error.message}` : (error as Error).message}`);
    return 1;
  } finally {
    await target.close();
  }
}

if (import.meta.main) {
  process.exitCode = await runDictionaryValidate(process.argv.slice(2), process.env, {
    log: (line) => console.log(line),
    error: (line) => console.error(line),
  });
}
