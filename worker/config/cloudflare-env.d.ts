// Ties the runtime's global types to this project's bindings and entry module, so that
// `env` and `exports` from 'cloudflare:workers' are typed everywhere, tests included.
declare namespace Cloudflare {
  interface Env {
    DASHBOARD_HUB: DurableObjectNamespace<import('../../durable-objects/dashboard-hub.ts').DashboardHub>;
    DASHBOARD_HUB_EDGE: DurableObjectNamespace<import('../../durable-objects/dashboard-hub-edge.ts').DashboardHubEdge>;
    EVENTS_QUEUE: Queue<import('../queues/events.ts').QueuedEvents>;
    EVENTS_DLQ: Queue<import('../queues/events.ts').DeadLetter>;
    USER_SPACE: DurableObjectNamespace<import('../../durable-objects/user-space.ts').UserSpace>;
  }
  interface GlobalProps {
    mainModule: typeof import('../../test/workers/entry.ts');
    durableNamespaces: 'DashboardHub' | 'DashboardHubEdge' | 'UserSpace';
  }
}
interface Env extends Cloudflare.Env {}

// Vite (the Astro build and the workers tests) inlines `?raw` imports as strings.
declare module '*?raw' {
  const text: string;
  export default text;
}
