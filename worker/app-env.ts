import type { Bindings, Config } from './env.ts';
import type { Identity } from './auth/roles.ts';
import type { Services } from './services/index.ts';

/** The one Hono environment type every route and middleware shares. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    config: Config;
    services: Services;
    /** Set by the authorize middleware; null on public routes without a caller. */
    identity: Identity | null;
    /** config/metric_routing.yaml as this app instance was built with it. */
    routingText: string;
  };
}
