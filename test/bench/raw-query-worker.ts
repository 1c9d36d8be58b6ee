import { Pool, neon, neonConfig } from '@neondatabase/serverless';

/**
 * The baseline for a Postgres-routed widget-data miss: a worker that does nothing but run the
 * metric's statement on a Neon pool, the way any hand-written Workers route would (a pool per
 * request, ended after the response). It runs under its own `wrangler dev`, so it pays the same
 * dev-proxy floor as the app and the ratio measures only what the data path adds.
 *   GET /bare               → "ok" (that process's floor)
 *   GET /raw?start&end      → the nps_impact statement's rows, on a pool (WebSocket)
 *   GET /raw-http?start&end → the same over Neon's HTTP query endpoint
 */
interface Env {
  DATABASE_URL: string;
  NEON_WS_PROXY: string;
  NEON_HTTP_ENDPOINT: string;
}

const RAW_SQL =
  'SELECT COALESCE(ROUND(SUM(nps_impact)::numeric, 1), 0) AS value FROM issue_sessions WHERE started_at >= $1::timestamptz AND started_at < $2::timestamptz';

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/bare') return new Response('ok');
    const params = [url.searchParams.get('start'), url.searchParams.get('end')];
    if (url.pathname === '/raw-http') {
      neonConfig.fetchEndpoint = env.NEON_HTTP_ENDPOINT;
      return Response.json({ rows: await neon(env.DATABASE_URL).query(RAW_SQL, params) });
    }
    if (url.pathname !== '/raw') return new Response('not found', { status: 404 });
    neonConfig.wsProxy = env.NEON_WS_PROXY;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    const pool = new Pool({ connectionString: env.DATABASE_URL, max: 1 });
    try {
      const result = await pool.query(RAW_SQL, params);
      return Response.json({ rows: result.rows });
    } finally {
      ctx.waitUntil(pool.end());
    }
  },
};
