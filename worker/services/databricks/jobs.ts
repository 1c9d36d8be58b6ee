// A client for the Databricks Jobs API 2.2, as far as the app uses it: find a job by name, start a
// run, read a run, list a job's active runs. Same transport as the statement client (bearer token,
// per-call deadline, 429/503 retries honouring Retry-After, failures as Databricks DependencyErrors).
import { z } from 'zod';
import type { Config } from '../../config/env.ts';
import { isDependencyError } from '../../http/errors.ts';
import { createTransport, databricksError, startCall } from './http.ts';
import type { Transport } from './http.ts';

const JOBS_PATH = '/api/2.2/jobs';

/** Lifecycle states after which a run never changes again. */
const FINAL_STATES: ReadonlySet<string> = new Set(['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR']);

export interface JobRun {
  runId: number;
  jobId: number | null;
  /** QUEUED, PENDING, RUNNING, TERMINATING, TERMINATED, SKIPPED, INTERNAL_ERROR, … */
  lifeCycleState: string;
  /** SUCCESS, FAILED, TIMEDOUT, CANCELED, … once the run has ended; null before. */
  resultState: string | null;
  /** What Databricks says about the state (why a run failed, for one). */
  message: string | null;
  /** Epoch milliseconds, null while unknown. */
  startTime: number | null;
  endTime: number | null;
  runPageUrl: string | null;
  finished: boolean;
}

export interface JobsCallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface JobsClient {
  /** Jobs whose name is exactly `name` (the API compares case-insensitively). */
  findJobs(name: string, opts: JobsCallOptions): Promise<Array<{ jobId: number; name: string }>>;
  /** Starts a run; the same idempotency token never starts a second one. */
  runNow(jobId: number, opts: JobsCallOptions & { idempotencyToken?: string; queue?: boolean }): Promise<{ runId: number }>;
  /** The run, or null when the workspace has no run with that id. */
  getRun(runId: number, opts: JobsCallOptions): Promise<JobRun | null>;
  /** The job's runs that have not ended, newest first. */
  activeRuns(jobId: number, opts: JobsCallOptions): Promise<JobRun[]>;
}

export interface JobsClientOptions {
  host: string;
  token: string;
  fetch?: typeof fetch;
  maxAttempts?: number;
}

const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

const wireRun = z.object({
  run_id: id,
  job_id: id.optional(),
  state: z
    .object({ life_cycle_state: z.string().optional(), result_state: z.string().optional(), state_message: z.string().optional() })
    .optional(),
  status: z
    .object({
      state: z.string().optional(),
      termination_details: z.object({ code: z.string().optional(), type: z.string().optional(), message: z.string().optional() }).optional(),
    })
    .optional(),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  run_page_url: z.string().optional(),
});

const wireJobList = z.object({
  jobs: z.array(z.object({ job_id: id, settings: z.object({ name: z.string().optional() }).optional() })).optional(),
  has_more: z.boolean().optional(),
});
const wireRunList = z.object({ runs: z.array(wireRun).optional(), has_more: z.boolean().optional() });
const wireRunNow = z.object({ run_id: id });

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw databricksError('protocol', `unexpected ${what} answer${issue ? ` (${issue.path.join('.') || 'body'}: ${issue.message})` : ''}`);
  }
  return parsed.data;
}

function toRun(wire: z.infer<typeof wireRun>): JobRun {
  // `state` is the 2.1 shape every run still carries; `status` is 2.2's, used where `state` is silent.
  const lifeCycleState = wire.state?.life_cycle_state ?? wire.status?.state ?? 'UNKNOWN';
  const message = wire.state?.state_message || wire.status?.termination_details?.message || null;
  return {
    runId: wire.run_id,
    jobId: wire.job_id ?? null,
    lifeCycleState,
    resultState: wire.state?.result_state ?? null,
    message,
    startTime: wire.start_time ? wire.start_time : null,
    endTime: wire.end_time ? wire.end_time : null,
    runPageUrl: wire.run_page_url ?? null,
    finished: FINAL_STATES.has(lifeCycleState),
  };
}

export function createJobsClient(options: JobsClientOptions): JobsClient {
  if (!options.token) throw new RangeError('a Databricks token is required');
  const transport: Transport = createTransport({
    host: options.host,
    token: options.token,
    fetch: options.fetch,
    maxAttempts: Math.max(1, options.maxAttempts ?? 4),
  });
  const get = (path: string, query: Record<string, string>, opts: JobsCallOptions) =>
    transport.request('GET', transport.url(`${JOBS_PATH}/${path}?${new URLSearchParams(query)}`), undefined, startCall(opts.timeoutMs, opts.signal));

  return {
    async findJobs(name, opts) {
      const body = parse(wireJobList, await get('list', { name, limit: '100' }, opts), 'job list');
      return (body.jobs ?? []).map((job) => ({ jobId: job.job_id, name: job.settings?.name ?? name }));
    },
    async runNow(jobId, opts) {
      const request = {
        job_id: jobId,
        ...(opts.idempotencyToken ? { idempotency_token: opts.idempotencyToken.slice(0, 64) } : {}),
        ...(opts.queue === undefined ? {} : { queue: { enabled: opts.queue } }),
      };
      const body = await transport.request('POST', transport.url(`${JOBS_PATH}/run-now`), request, startCall(opts.timeoutMs, opts.signal));
      return { runId: parse(wireRunNow, body, 'run-now').run_id };
    },
    async getRun(runId, opts) {
      try {
        return toRun(parse(wireRun, await get('runs/get', { run_id: String(runId) }, opts), 'run'));
      } catch (error) {
        // The API answers 400 INVALID_PARAMETER_VALUE ("Run 42 does not exist.") or 404 for an unknown run.
        const code = isDependencyError(error) ? error.details.errorType : undefined;
        if (isDependencyError(error) && error.kind === 'rejected' && (code === 'RESOURCE_DOES_NOT_EXIST' || code === 'INVALID_PARAMETER_VALUE')) return null;
        throw error;
      }
    },
    async activeRuns(jobId, opts) {
      const body = parse(wireRunList, await get('runs/list', { job_id: String(jobId), active_only: 'true', limit: '25' }, opts), 'run list');
      return (body.runs ?? []).map(toRun).filter((run) => !run.finished);
    },
  };
}

/** The workspace's Jobs client, or null when Databricks is not configured. */
export function jobsClientFor(config: Pick<Config, 'DATABRICKS_HOST' | 'DATABRICKS_TOKEN'>): JobsClient | null {
  if (!config.DATABRICKS_HOST || !config.DATABRICKS_TOKEN) return null;
  return createJobsClient({ host: config.DATABRICKS_HOST, token: config.DATABRICKS_TOKEN });
}
