import { handle } from '@astrojs/cloudflare/handler';
import { createFetchHandler } from './http/fetch.ts';
import type { Bindings } from './config/env.ts';
import { drainWaitingEvents } from './dashboard/events/scheduled.ts';

export { DashboardHub } from '../durable-objects/dashboard-hub.ts';
export { UserSpace } from '../durable-objects/user-space.ts';
export { IncidentWorkflow } from './incidents/workflow.ts';

export default {
  fetch: createFetchHandler((request, env, ctx) => handle(request, env as unknown as Env, ctx) as Promise<Response>),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(drainWaitingEvents(env)),
} satisfies ExportedHandler<Bindings>;
