/**
 * Refreshing the lakehouse: start the data-engineering side's refresh job (support_l3_refresh by
 * default) through the Databricks Jobs API and follow its run to the end. One run at a time, asked
 * of Databricks itself (isolates are many and share no memory): a run already active is a 409 that
 * points at it. A short Redis lock covers the moment between that check and the start. When a
 * followed run has succeeded, the table versions are read again, which re-keys every cached answer
 * over the tables it changed.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv, Config } from '../config/env.ts';
import { ApiError, DependencyError } from '../http/errors.ts';
import { jobsClientFor } from '../services/databricks/jobs.ts';
import type { JobRun, JobsClient } from '../services/databricks/jobs.ts';
import type { Services } from '../services/index.ts';
import { noteRefreshSucceeded } from './versions.ts';

const JOBS_TIMEOUT_MS = 10_000;
/** A job id found by name is reused this long per isolate. */
const JOB_ID_MS = 10 * 60_000;
/** Covers the check for an active run and the start; released as soon as the run exists. */
const START_LOCK_MS = 30_000;

export const RefreshRunSchema = z
  .object({
    run_id: z.number().int(),
    job_id: z.number().int(),
    job_name: z.string(),
    state: z.string().openapi({ description: 'The run’s life cycle: QUEUED, PENDING, RUNNING, TERMINATING, TERMINATED, SKIPPED or INTERNAL_ERROR' }),
    result: z.string().nullable().openapi({ description: 'SUCCESS, FAILED, TIMEDOUT, CANCELED… once the run has ended' }),
    message: z.string().nullable().openapi({ description: 'What Databricks says about the state; why a run failed' }),
    done: z.boolean().openapi({ description: 'The run has ended and will not change again' }),
    started_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    run_page_url: z.string().nullable(),
    versions: z
      .record(z.string(), z.number().int())
      .optional()
      .openapi({ description: 'After a successful run: each table’s Delta version, as cached answers are now keyed' }),
    links: z.object({ self: z.string() }),
  })
  .openapi('RefreshRun');
export type RefreshRun = z.infer<typeof RefreshRunSchema>;

const jobIds = new Map<string, { jobId: number; until: number }>();

function jobsOf(config: Config): JobsClient {
  const client = jobsClientFor(config);
  if (!client) throw new DependencyError('databricks', 'not_configured', 'Databricks is not configured on this server.');
  return client;
}

/** The refresh job's id: configured, else looked up by its name. */
async function refreshJobId(jobs: JobsClient, config: Config): Promise<number> {
  if (config.DATABRICKS_REFRESH_JOB_ID) return Number(config.DATABRICKS_REFRESH_JOB_ID);
  const key = `${config.DATABRICKS_HOST}|${config.DATABRICKS_REFRESH_JOB_NAME}`;
  const known = jobIds.get(key);
  if (known && known.until > Date.now()) return known.jobId;
  const found = await jobs.findJobs(config.DATABRICKS_REFRESH_JOB_NAME, { timeoutMs: JOBS_TIMEOUT_MS });
  if (found.length !== 1) {
    throw new DependencyError(
      'databricks',
      'not_configured',
      `${found.length === 0 ? 'no' : found.length} Databricks jobs named ${config.DATABRICKS_REFRESH_JOB_NAME}; set DATABRICKS_REFRESH_JOB_ID`,
    );
  }
  jobIds.set(key, { jobId: found[0]!.jobId, until: Date.now() + JOB_ID_MS });
  return found[0]!.jobId;
}

const selfLink = (runId: number) => `/v1/settings/refresh/${runId}`;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function view(run: JobRun, jobId: number, config: Config, versions?: Record<string, number>): RefreshRun {
  return {
    run_id: run.runId,
    job_id: run.jobId ?? jobId,
    job_name: config.DATABRICKS_REFRESH_JOB_NAME,
    state: run.lifeCycleState,
    result: run.resultState,
    message: run.message,
    done: run.finished,
    started_at: iso(run.startTime),
    ended_at: run.finished ? iso(run.endTime) : null,
    run_page_url: run.runPageUrl,
    ...(versions ? { versions } : {}),
    links: { self: selfLink(run.runId) },
  };
}

function alreadyRunning(run: JobRun, config: Config): ApiError {
  return new ApiError(
    'conflict',
    `${config.DATABRICKS_REFRESH_JOB_NAME} is already running (run ${run.runId}, ${run.lifeCycleState}); follow it at ${selfLink(run.runId)}.`,
    { headers: { location: selfLink(run.runId) } },
  );
}

/** Takes the short start lock; false when another request holds it. Without Redis the Databricks check stands alone. */
async function lockStart(services: Services, key: string, token: string): Promise<boolean> {
  if (!services.redis.client) return true;
  try {
    return (await services.redis.client.set(key, token, { nx: true, px: START_LOCK_MS })) === 'OK';
  } catch (error) {
    services.log.warn('refresh start lock unavailable; relying on the active-run check alone', { error });
    return true;
  }
}

async function unlockStart(services: Services, key: string, token: string): Promise<void> {
  try {
    if ((await services.redis.client?.get(key)) === token) await services.redis.client?.del(key);
  } catch {
    // The lock expires on its own.
  }
}

export async function startRefresh(c: Context<AppEnv>): Promise<RefreshRun> {
  const config = c.get('config');
  const services = c.get('services');
  const log = c.get('log').child({ component: 'lakehouse-refresh' });
  const jobs = jobsOf(config);
  const jobId = await refreshJobId(jobs, config);
  const opts = { timeoutMs: JOBS_TIMEOUT_MS };

  // Job ids are unique within a workspace, not across workspaces sharing a Redis.
  const lock = `cc:lakehouse:refresh-start:${config.DATABRICKS_HOST}|${jobId}`;
  const token = c.get('requestId');
  if (!(await lockStart(services, lock, token))) {
    throw new ApiError('conflict', `${config.DATABRICKS_REFRESH_JOB_NAME} is being started by another request; follow it from there.`);
  }
  try {
    const [active] = await jobs.activeRuns(jobId, opts);
    if (active) throw alreadyRunning(active, config);
    // Queueing off: a run that still collides with another (started outside this app) is SKIPPED, not stacked.
    const { runId } = await jobs.runNow(jobId, { ...opts, idempotencyToken: `cc-${token}`, queue: false });
    const run = await jobs.getRun(runId, opts);
    if (!run) throw new DependencyError('databricks', 'protocol', `run ${runId} was started but cannot be read`);
    if (run.lifeCycleState === 'SKIPPED') {
      const [other] = await jobs.activeRuns(jobId, opts);
      if (other) throw alreadyRunning(other, config);
    }
    log.info('lakehouse refresh started', { job_id: jobId, run_id: runId, by: c.get('identity')?.email ?? null });
    return view(run, jobId, config);
  } finally {
    await unlockStart(services, lock, token);
  }
}

export async function followRefresh(c: Context<AppEnv>, runId: number): Promise<RefreshRun> {
  const config = c.get('config');
  const services = c.get('services');
  const jobs = jobsOf(config);
  const jobId = await refreshJobId(jobs, config);
  const run = await jobs.getRun(runId, { timeoutMs: JOBS_TIMEOUT_MS });
  // Only the refresh job's runs are this route's to show.
  if (!run || (run.jobId !== null && run.jobId !== jobId)) throw new ApiError('not_found', `No ${config.DATABRICKS_REFRESH_JOB_NAME} run ${runId}.`);
  if (run.finished && run.resultState === 'SUCCESS') return view(run, jobId, config, await noteRefreshSucceeded(services, config, runId));
  return view(run, jobId, config);
}
