import { env, exports } from 'cloudflare:workers';
import { Redis } from '@upstash/redis';
import { z } from 'zod';
import type { Identity, Role } from '../../worker/auth/roles.ts';
import type { SocketCredential } from '../../worker/auth/socket-access.ts';
import { newApp, requestIds } from '../../worker/http/app.ts';
import { limitBody } from '../../worker/http/body-limit.ts';
import { init } from '../../worker/http/init.ts';
import { issueToken } from '../../worker/auth/session.ts';
import { findActiveUserByEmail } from '../../worker/auth/users.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { createPostgres } from '../../worker/services/postgres.ts';

export const ProblemShape = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  code: z.string(),
  request_id: z.string(),
  errors: z.array(z.object({ pointer: z.string(), message: z.string() })).optional(),
});

export const vars = env as unknown as Record<string, string>;

export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, 'http://cc.test'), init));
}

/** Asserts a problem+json answer and returns it parsed. */
export async function expectProblem(res: Response, status: number, code: string) {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${res.status}: ${text}`);
  const ct = res.headers.get('content-type') ?? '';
  if (!ct.startsWith('application/problem+json')) throw new Error(`expected problem+json, got ${ct}: ${text}`);
  const body = ProblemShape.parse(JSON.parse(text));
  if (body.code !== code) throw new Error(`expected code ${code}, got ${body.code}: ${text}`);
  if (/\n\s+at /.test(text)) throw new Error(`problem leaks a stack trace: ${text}`);
  return body;
}

export const LOCAL_EMAIL: Record<Role, string> = {
  admin: 'admin@command-center.local',
  editor: 'editor@command-center.local',
  viewer: 'viewer@command-center.local',
};
export const LOCAL_PASSWORD: Record<Role, string> = {
  admin: 'admin-local-password',
  editor: 'editor-local-password',
  viewer: 'viewer-local-password',
};

/**
 * A session token for a local user, minted directly: sign-in itself is tested on its own, and
 * minting keeps the other tests clear of the sign-in rate limit.
 */
export async function sessionToken(role: Role, ttlSeconds = 3_600): Promise<string> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const db = createPostgres(loaded.config);
  try {
    const user = await findActiveUserByEmail(db, LOCAL_EMAIL[role]);
    if (!user) throw new Error(`no local ${role}`);
    return (await issueToken(user, 'session', ttlSeconds, loaded.config.SESSION_SECRET!)).token;
  } finally {
    await db.close();
  }
}

export async function authHeaders(role: Role): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await sessionToken(role)}` };
}

/**
 * Drives the stack's control server (stop/start the lakehouse, faults, Redis pause, Bedrock script,
 * private lakehouses and databases). Answers the parsed body, or undefined for 204.
 */
export async function control<T = undefined>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${vars.STACK_CONTROL_URL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${vars.STACK_CONTROL_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  if (res.status !== 200) throw new Error(`stack control ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

// The Bedrock stand-in's script queue is shared by the whole run: files that script it take
// turns through a lock in Redis rather than interleave their turns.
// Under the run's own key prefix: another run has its own stand-in, and its own lock.
const LOCK_KEY = `${vars.REDIS_KEY_PREFIX ?? 'test'}:cc:test:bedrock-script-lock`;
const lockToken = crypto.randomUUID();
const redis = () => new Redis({ url: vars.UPSTASH_REDIS_REST_URL!, token: vars.UPSTASH_REDIS_REST_TOKEN!, enableTelemetry: false });

export async function takeBedrockLock(): Promise<void> {
  const deadline = Date.now() + 170_000;
  while ((await redis().set(LOCK_KEY, lockToken, { nx: true, px: 180_000 })) !== 'OK') {
    if (Date.now() > deadline) throw new Error('the Bedrock script lock was never released');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function releaseBedrockLock(): Promise<void> {
  const r = redis();
  if ((await r.get(LOCK_KEY)) === lockToken) await r.del(LOCK_KEY);
}

/** The local users as identities, for route modules tested without the sign-in layer. */
export async function localIdentities(): Promise<Map<Role, Identity>> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const db = createPostgres(loaded.config);
  const out = new Map<Role, Identity>();
  try {
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      const user = await findActiveUserByEmail(db, LOCAL_EMAIL[role]);
      if (!user) throw new Error(`no local ${role}`);
      out.set(role, { userId: user.id, email: user.email, name: user.name, role, via: 'session', credentialId: 'test', expiresAt: null });
    }
  } finally {
    await db.close();
  }
  return out;
}

/** Route modules on their own, with the app's middleware and the caller set directly. */
export function routeTestApp(mount: (app: ReturnType<typeof newApp>) => void, identity: Identity, extraEnv: Record<string, string> = {}) {
  const app = newApp();
  app.use('*', requestIds, init, limitBody);
  app.use('*', async (c, next) => {
    c.set('identity', identity);
    await next();
  });
  mount(app);
  const bindings = { ...env, ...extraEnv };
  return (path: string, requestInit?: RequestInit) => app.request(path, requestInit, bindings);
}

/** Creates a widget as `role`; shared by the widget, dashboard and widget-data tests. */
export async function newWidget(role: Role, body: Record<string, unknown>) {
  const res = await call('/v1/widgets', {
    method: 'POST',
    headers: { ...(await authHeaders(role)), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res;
}

/** A catalog metric definition that can run on both sources: denied claims in the window. */
export function deniedClaimsMetric(name: string, queries: { postgres?: string; databricks?: string } = {
  postgres: "SELECT COUNT(*) AS value FROM claims WHERE status = 'denied' AND opened_at >= :start AND opened_at < :end",
  databricks: "SELECT COUNT(*) AS value FROM workspace.support_l3.claims WHERE status = 'denied' AND opened_at >= :start AND opened_at < :end",
}) {
  return {
    name,
    display_name: 'Denied claims',
    description: 'Claims denied in the window',
    unit: 'count',
    direction: 'lower_is_better',
    owner: 'claims-operations',
    lineage: { tables: ['claims'], columns: ['claims.status', 'claims.opened_at'] },
    queries,
  };
}

/** A viewer's socket on a dashboard's hub, collecting every published message in seq order. */
export async function listen(board: string, via: (path: string, init?: RequestInit) => Response | Promise<Response> = call) {
  const res = await via(`/v1/dashboard/stream?dashboard=${board}`, { headers: { upgrade: 'websocket', ...(await authHeaders('viewer')) } });
  const ws = res.webSocket!;
  ws.accept();
  type Message = { type: string; seq: number; data?: Record<string, unknown>; messages?: Message[] };
  const messages: Message[] = [];
  // As clients must: a `batch` frame carries its messages in seq order.
  ws.addEventListener('message', (e) => {
    const frame = JSON.parse(String(e.data)) as Message;
    messages.push(...(frame.type === 'batch' ? (frame.messages ?? []) : [frame]));
  });
  return {
    messages,
    async until(pred: () => boolean, ms = 3_000) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** The local viewer's credential as the stream route hands it to a hub, for tests that join hubs directly. */
export async function viewerSocketCredential(): Promise<SocketCredential> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const db = createPostgres(loaded.config);
  try {
    const user = await findActiveUserByEmail(db, LOCAL_EMAIL.viewer);
    if (!user) throw new Error('no local viewer');
    return { userId: user.id, via: 'session', credentialId: crypto.randomUUID(), epoch: user.sessionEpoch, expiresAt: Math.floor(Date.now() / 1000) + 3_600 };
  } finally {
    await db.close();
  }
}
