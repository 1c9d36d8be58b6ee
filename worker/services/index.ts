import type { Config } from '../env.ts';
import { createBedrock } from './bedrock.ts';
import type { BedrockService } from './bedrock.ts';
import { createDatabricks } from './databricks.ts';
import type { DatabricksService } from './databricks.ts';
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
  close(): Promise<void>;
}

export function createServices(config: Config): Services {
  const postgres = createPostgres(config);
  return {
    postgres,
    redis: createRedis(config),
    databricks: createDatabricks(config),
    bedrock: createBedrock(config),
    close: () => postgres.close(),
  };
}
