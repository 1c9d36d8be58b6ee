import { createFetchHandler } from '../../worker/http/fetch.ts';
import type { Bindings } from '../../worker/config/env.ts';
import { drainWaitingEvents } from '../../worker/dashboard/events/scheduled.ts';

export { DashboardHub } from '../../durable-objects/dashboard-hub.ts';
export { UserSpace } from '../../durable-objects/user-space.ts';
export { IncidentWorkflow } from '../../worker/incidents/workflow.ts';

/**
 * The production entry with the Astro handler swapped for a marker: the site is exercised by
 * the browser tests against the built worker, the API here inside workerd.
 */
export default {
  fetch: createFetchHandler(async () => new Response('site', { status: 200, headers: { 'x-served-by': 'site' } })),
  scheduled: (_controller: ScheduledController, env: Bindings, ctx: ExecutionContext) => ctx.waitUntil(drainWaitingEvents(env)),
};
