// The Jobs API 2.2 as far as the application uses it, for the one job the data-engineering side runs:
// `support_l3_refresh`. A run goes QUEUED -> PENDING -> RUNNING -> TERMINATING -> TERMINATED; while
// RUNNING it appends the newest day of contacts, claims and sessions (deterministically: run k of a
// stand-in always writes the same rows for day k after the synthetic data's end) and commits a new
// Delta version of each table it changed. The job allows one run at a time: a run asked for while
// another is active is queued, or SKIPPED when the request turns queueing off.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { DeltaLog, JobCommitInfo } from './delta-log.ts';
import type { FaultInjector } from './faults.ts';
import type { Lakehouse } from './lakehouse.ts';
import { buildMarts } from './marts.ts';
import { DEFAULT_VOLUMES, generateLakehouse } from './synthetic-data.ts';
import type { GeneratedRow } from './synthetic-data.ts';

export const REFRESH_JOB_NAME = 'support_l3_refresh';
export const JOBS_PATH = '/api/2.2/jobs';

const DAY_MS = 86_400_000;
/** The synthetic data's span; a day's volume is the initial load's over this. */
const SYNTHETIC_DAYS = 120;
const OWNER = 'data-engineering@command-center.local';
const RUN_ID_BASE = 731_640_000_000_000;
/** How often a held or queued run looks again. */
const RECHECK_MS = 10;

type LifeCycle = 'QUEUED' | 'PENDING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR';
type ResultState = 'SUCCESS' | 'FAILED' | 'CANCELED' | 'MAXIMUM_CONCURRENT_RUNS_REACHED';

interface Termination {
  code: string;
  type: 'SUCCESS' | 'CLIENT_ERROR' | 'INTERNAL_ERROR' | 'CLOUD_FAILURE';
  message: string;
}

interface RunRecord {
  runId: number;
  taskRunId: number;
  lifeCycle: LifeCycle;
  result?: ResultState;
  message: string;
  termination?: Termination;
  queueEnabled: boolean;
  idempotencyToken?: string;
  /** Stand-in clock, epoch ms. */
  startTime: number;
  setupDuration: number;
  executionDuration: number;
  cleanupDuration: number;
  endTime: number;
  /** When each phase began, to fill in the durations. */
  phaseStart: number;
  done: Promise<void>;
}

export interface JobsOptions {
  lakehouse: Lakehouse;
  delta: DeltaLog;
  faults: FaultInjector;
  /** The stand-in's clock. */
  clock: () => Date;
  seed: number;
  /** The end of the synthetic data: day 1 of the refreshes ends a day after it. */
  dataEnd: Date;
  /** How long a run spends in each phase. */
  phaseMs: number;
  jobId: number;
  /** The workspace URL, for run_page_url. */
  origin: () => string;
}

export interface JobsAnswer {
  status: number;
  body: unknown;
}

export interface Jobs {
  readonly jobId: number;
  handle(method: string, path: string, query: URLSearchParams, readBody: () => Promise<unknown>): Promise<JobsAnswer>;
  /** Days appended by successful runs so far. */
  readonly daysAppended: number;
  /** Stops every run where it is and waits for it, so the engine can close. */
  shutdown(): Promise<void>;
}

const runNowRequest = z.object({
  job_id: z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]),
  idempotency_token: z.string().max(64).optional(),
  job_parameters: z.record(z.string(), z.string()).optional(),
  queue: z.object({ enabled: z.boolean() }).optional(),
});

const error = (status: number, code: string, message: string): JobsAnswer => ({ status, body: { error_code: code, message } });

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** Gives appended facts the identifiers that follow the table's last one. */
function renumber(rows: GeneratedRow[], column: string, prefix: string, width: number, after: number): GeneratedRow[] {
  rows.forEach((row, index) => {
    row[column] = `${prefix}-${pad(after + index + 1, width)}`;
  });
  return rows;
}

export function createJobs(options: JobsOptions): Jobs {
  const { lakehouse, delta, faults, clock, jobId } = options;
  const now = (): number => clock().getTime();
  const createdTime = options.dataEnd.getTime() - 30 * DAY_MS;
  const initial = { ...lakehouse.rowCounts };
  const perDay = (table: string): number => Math.max(1, Math.round((initial[table] ?? 0) / SYNTHETIC_DAYS));
  const runs: RunRecord[] = [];
  const stop = new AbortController();
  let daysAppended = 0;

  const active = (run: RunRecord): boolean => !['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'].includes(run.lifeCycle);

  const jobBody = () => ({
    job_id: jobId,
    creator_user_name: OWNER,
    run_as_user_name: OWNER,
    created_time: createdTime,
    settings: {
      name: REFRESH_JOB_NAME,
      description: 'Appends the newest day of contacts, claims and sessions to workspace.support_l3.',
      max_concurrent_runs: 1,
      queue: { enabled: true },
      format: 'MULTI_TASK',
      tasks: [{ task_key: 'append_newest_day', description: 'Append the newest day to support_l3' }],
    },
  });

  const v2State = (run: RunRecord): string =>
    run.lifeCycle === 'SKIPPED' || run.lifeCycle === 'INTERNAL_ERROR' ? 'TERMINATED' : run.lifeCycle;

  const runBody = (run: RunRecord) => {
    const state = {
      life_cycle_state: run.lifeCycle,
      ...(run.result ? { result_state: run.result } : {}),
      state_message: run.message,
      user_cancelled_or_timedout: false,
      ...(run.lifeCycle === 'QUEUED' ? { queue_reason: 'Queued due to reaching maximum concurrent runs of 1.' } : {}),
    };
    const status = {
      state: v2State(run),
      ...(run.termination ? { termination_details: run.termination } : {}),
      ...(run.lifeCycle === 'QUEUED' ? { queue_details: { code: 'ACTIVE_RUNS_LIMIT_REACHED', message: state.queue_reason } } : {}),
    };
    const ended = run.endTime > 0;
    return {
      job_id: jobId,
      run_id: run.runId,
      number_in_job: run.runId,
      original_attempt_run_id: run.runId,
      run_name: REFRESH_JOB_NAME,
      creator_user_name: OWNER,
      state,
      status,
      start_time: run.startTime,
      setup_duration: run.setupDuration,
      execution_duration: run.executionDuration,
      cleanup_duration: run.cleanupDuration,
      end_time: run.endTime,
      run_duration: ended ? run.endTime - run.startTime : 0,
      trigger: 'ONE_TIME',
      run_type: 'JOB_RUN',
      format: 'MULTI_TASK',
      attempt_number: 0,
      run_page_url: `${options.origin()}/jobs/${jobId}/runs/${run.runId}`,
      job_parameters: [],
      tasks: [
        {
          run_id: run.taskRunId,
          task_key: 'append_newest_day',
          state,
          status,
          start_time: run.startTime,
          end_time: run.endTime,
          attempt_number: 0,
        },
      ],
    };
  };

  const enter = (run: RunRecord, lifeCycle: LifeCycle, message = ''): void => {
    const at = now();
    const spent = at - run.phaseStart;
    if (run.lifeCycle === 'PENDING') run.setupDuration += spent;
    if (run.lifeCycle === 'RUNNING') run.executionDuration += spent;
    if (run.lifeCycle === 'TERMINATING') run.cleanupDuration += spent;
    run.lifeCycle = lifeCycle;
    run.message = message;
    run.phaseStart = at;
    if (!active(run)) run.endTime = at;
  };

  const finish = (run: RunRecord, result: ResultState, termination: Termination): void => {
    run.result = result;
    run.termination = termination;
    enter(run, 'TERMINATED', result === 'SUCCESS' ? '' : termination.message);
  };

  /** Writes the next day after the data's end into the three fact tables, each as a new version. */
  const appendNewestDay = async (run: RunRecord): Promise<void> => {
    const day = daysAppended + 1;
    const dayEnd = new Date(options.dataEnd.getTime() + day * DAY_MS);
    const generated = generateLakehouse({
      now: dayEnd,
      seed: options.seed,
      days: 1,
      factSalt: `refresh-day-${day}`,
      volumes: {
        ...DEFAULT_VOLUMES,
        interactions: perDay('interactions'),
        claims: perDay('claims'),
        issueSessions: perDay('issue_sessions'),
      },
    });
    const writes: Array<[string, GeneratedRow[]]> = [
      ['interactions', renumber(generated.interactions ?? [], 'interaction_id', 'INT', 7, lakehouse.rowCounts.interactions ?? 0)],
      ['claims', renumber(generated.claims ?? [], 'claim_id', 'CLM', 6, lakehouse.rowCounts.claims ?? 0)],
      ['issue_sessions', renumber(generated.issue_sessions ?? [], 'session_id', 'SES', 7, lakehouse.rowCounts.issue_sessions ?? 0)],
    ];
    const commitInfo: JobCommitInfo = {
      jobId: String(jobId),
      jobName: REFRESH_JOB_NAME,
      jobRunId: String(run.runId),
      runId: String(run.taskRunId),
      jobOwnerId: '4127935601225584',
      triggerType: 'manual',
    };
    for (const [table, rows] of writes) {
      await lakehouse.append(table, rows);
      delta.commitAppend(table, rows.length, now(), commitInfo);
    }
    daysAppended = day;
  };

  const pause = (ms: number): Promise<void> => sleep(ms, undefined, { signal: stop.signal });

  const drive = async (run: RunRecord): Promise<void> => {
    // One run at a time: a queued run waits for the active one to end.
    while (runs.some((other) => other !== run && active(other) && other.runId < run.runId)) await pause(RECHECK_MS);
    await pause(options.phaseMs);
    enter(run, 'PENDING', 'Waiting for cluster');
    await pause(options.phaseMs);
    enter(run, 'RUNNING', 'In run');
    await pause(options.phaseMs);
    while (faults.current.holdRuns) await pause(RECHECK_MS);
    const injected = faults.takeFailNextRun();
    if (injected) {
      finish(run, 'FAILED', { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: injected.message });
      return;
    }
    try {
      await appendNewestDay(run);
      await buildMarts((sql) => lakehouse.query(sql));
    } catch (cause) {
      finish(run, 'FAILED', { code: 'RUN_EXECUTION_ERROR', type: 'INTERNAL_ERROR', message: `Task append_newest_day failed: ${String(cause)}` });
      return;
    }
    enter(run, 'TERMINATING', 'Cleaning up');
    await pause(options.phaseMs);
    finish(run, 'SUCCESS', { code: 'SUCCESS', type: 'SUCCESS', message: '' });
  };

  const runNow = async (readBody: () => Promise<unknown>): Promise<JobsAnswer> => {
    const parsed = runNowRequest.safeParse(await readBody());
    if (!parsed.success) return error(400, 'INVALID_PARAMETER_VALUE', `Invalid run-now request: ${parsed.error.issues[0]?.message ?? 'bad body'}`);
    const body = parsed.data;
    if (body.job_id !== jobId) return error(400, 'INVALID_PARAMETER_VALUE', `Job ${body.job_id} does not exist.`);
    const repeated = body.idempotency_token ? runs.find((run) => run.idempotencyToken === body.idempotency_token) : undefined;
    if (repeated) return { status: 200, body: { run_id: repeated.runId, number_in_job: repeated.runId } };

    const runId = RUN_ID_BASE + runs.length * 2 + 1;
    const at = now();
    const run: RunRecord = {
      runId,
      taskRunId: runId + 1,
      lifeCycle: 'QUEUED',
      message: '',
      queueEnabled: body.queue?.enabled ?? jobBody().settings.queue.enabled,
      ...(body.idempotency_token ? { idempotencyToken: body.idempotency_token } : {}),
      startTime: at,
      setupDuration: 0,
      executionDuration: 0,
      cleanupDuration: 0,
      endTime: 0,
      phaseStart: at,
      done: Promise.resolve(),
    };
    const busy = runs.some(active);
    runs.push(run);
    if (busy && !run.queueEnabled) {
      run.result = 'MAXIMUM_CONCURRENT_RUNS_REACHED';
      const message = 'Skipping this run because the limit of 1 maximum concurrent runs has been reached.';
      run.termination = { code: 'MAX_CONCURRENT_RUNS_EXCEEDED', type: 'CLIENT_ERROR', message };
      enter(run, 'SKIPPED', message);
    } else {
      run.done = drive(run).catch(() => {
        // Only a shutdown interrupts a run; it ends where it was.
        if (active(run)) finish(run, 'CANCELED', { code: 'CANCELED', type: 'INTERNAL_ERROR', message: 'The workspace shut down.' });
      });
    }
    return { status: 200, body: { run_id: runId, number_in_job: runId } };
  };

  const parseId = (query: URLSearchParams, name: string): number | JobsAnswer => {
    const raw = query.get(name);
    if (raw === null || raw === '') return error(400, 'INVALID_PARAMETER_VALUE', `Missing required field: ${name}`);
    if (!/^\d{1,19}$/.test(raw)) return error(400, 'MALFORMED_REQUEST', `Could not parse request object: ${name} is not a valid int64: ${raw.slice(0, 40)}`);
    return Number(raw);
  };
  const flag = (query: URLSearchParams, name: string): boolean => query.get(name) === 'true';
  const limitOf = (query: URLSearchParams, max: number, fallback: number): number | JobsAnswer => {
    const raw = query.get('limit');
    if (raw === null) return fallback;
    const limit = Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > max) return error(400, 'INVALID_PARAMETER_VALUE', `limit must be between 1 and ${max}.`);
    return limit;
  };

  return {
    jobId,
    get daysAppended() {
      return daysAppended;
    },
    async handle(method, path, query, readBody) {
      const action = path.slice(JOBS_PATH.length + 1);
      if (method === 'GET' && action === 'list') {
        const limit = limitOf(query, 100, 20);
        if (typeof limit !== 'number') return limit;
        const name = query.get('name');
        const matches = name === null || name.toLowerCase() === REFRESH_JOB_NAME ? [jobBody()] : [];
        return { status: 200, body: { ...(matches.length > 0 ? { jobs: matches.slice(0, limit) } : {}), has_more: false } };
      }
      if (method === 'GET' && action === 'get') {
        const id = parseId(query, 'job_id');
        if (typeof id !== 'number') return id;
        return id === jobId ? { status: 200, body: jobBody() } : error(400, 'INVALID_PARAMETER_VALUE', `Job ${id} does not exist.`);
      }
      if (method === 'POST' && action === 'run-now') return runNow(readBody);
      if (method === 'GET' && action === 'runs/get') {
        const id = parseId(query, 'run_id');
        if (typeof id !== 'number') return id;
        const run = runs.find((r) => r.runId === id);
        return run ? { status: 200, body: runBody(run) } : error(400, 'INVALID_PARAMETER_VALUE', `Run ${id} does not exist.`);
      }
      if (method === 'GET' && action === 'runs/list') {
        const activeOnly = flag(query, 'active_only');
        const completedOnly = flag(query, 'completed_only');
        if (activeOnly && completedOnly) return error(400, 'INVALID_PARAMETER_VALUE', 'active_only and completed_only cannot both be true.');
        const limit = limitOf(query, 25, 25);
        if (typeof limit !== 'number') return limit;
        if (query.has('job_id')) {
          const id = parseId(query, 'job_id');
          if (typeof id !== 'number') return id;
          if (id !== jobId) return error(400, 'INVALID_PARAMETER_VALUE', `Job ${id} does not exist.`);
        }
        const listed = [...runs]
          .reverse()
          .filter((run) => (activeOnly ? active(run) : completedOnly ? !active(run) : true))
          .slice(0, limit)
          .map(runBody);
        return { status: 200, body: { ...(listed.length > 0 ? { runs: listed } : {}), has_more: false } };
      }
      return error(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${path}'`);
    },
    async shutdown() {
      stop.abort();
      await Promise.all(runs.map((run) => run.done));
    },
  };
}
