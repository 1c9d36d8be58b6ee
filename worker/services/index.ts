import type { Config } from '../config/env.ts';
import { Timings } from '../http/timing.ts';
import { rootLogger } from '../lib/log.ts';
import type { Logger } from '../lib/log.ts';
import { createBedrock } from '../llm/service.ts';
import type { BedrockService } from '../llm/service.ts';
import { createDatabricks } from './databricks/service.ts';
import type { DatabricksService } from './databricks/service.ts';
import { createPostgres } from './postgres.ts';
import type { Postgres } from './postgres.ts';
import { createRedis } from './redis.ts';
import type { RedisService } from './redis.ts';

/** The per-request service set; nothing here opens a connection until it is used. */
export interface Services {
  postgres: Postgres;
  redis: RedisService;
  databricks: DatabricksService;
  bedrock: BedrockService;
  /** The request's logger (the isolate's root logger outside a request). */
  log: Logger;
  /** Time spent in each dependency during this request. */
  timings: Timings;
  /** Work that must finish but need not hold the response (cache writes); awaited before close. */
  defer(work: Promise<unknown>): void;
  close(): Promise<void>;
}

export function createServices(config: Config, timings = new Timings(), log: Logger = rootLogger): Services {
  const postgres = createPostgres(config, timings, log);
  const deferred: Promise<unknown>[] = [];
  return {
    postgres,
    redis: createRedis(config, timings),
    log,
    timings,
    databricks: createDatabricks(config),
    bedrock: createBedrock(config),
    defer: (work) => void deferred.push(work.catch(() => undefined)),
    close: async () => {
      await Promise.all(deferred);
      await postgres.close();
    },
  };
}
