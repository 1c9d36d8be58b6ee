import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApi } from '../../worker/api.ts';
import { ruleFor } from '../../worker/auth/policy.ts';
import { roleAtLeast, ROLES } from '../../worker/auth/roles.ts';
import type { Role } from '../../worker/auth/roles.ts';
import { control, sessionToken, vars } from './helpers.ts';

/**
 * Every route is called for real, and an admin's POST /v1/settings/refresh starts a refresh run
 * that appends a day of data. So the matrix talks to a lakehouse of its own (started by the stack's
 * control server), and no other test's numbers or cached answers can change under it.
 */
let lakehouse: { id: string; vars: Record<string, string> } | undefined;

beforeAll(async () => {
  lakehouse = await control<{ id: string; vars: Record<string, string> }>('/lakehouses', {});
});

afterAll(async () => {
  if (lakehouse) await control(`/lakehouses/${lakehouse.id}/close`);
});

/** The API as the worker serves it, with the private lakehouse in place of the shared one. */
async function call(path: string, init: RequestInit): Promise<Response> {
  if (!lakehouse) throw new Error('the private lakehouse did not start');
  const ctx = createExecutionContext();
  const res = await getApi().fetch(new Request(new URL(path, 'http://cc.test'), init), { ...env, ...lakehouse.vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Every registered route, called as nobody and as each role, answers as ACCESS_RULES says. */
const routes = getApi()
  .routes.filter((r) => r.method !== 'ALL')
  .map((r) => ({ method: r.method, path: r.path }))
  .filter((r, i, all) => all.findIndex((o) => o.method === r.method && o.path === r.path) === i);

const concrete = (path: string) => path.replace(/:[A-Za-z_]+/g, '00000000-0000-4000-8000-000000000000');

describe('route × role matrix', () => {
  it('has a rule for every registered route', () => {
    const missing = routes.filter((r) => ruleFor(r.method, r.path) === undefined).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    expect(routes.length).toBeGreaterThan(10);
  });

  it('talks to a lakehouse of its own', () => {
    expect(lakehouse?.vars.DATABRICKS_HOST).toBeDefined();
    expect(lakehouse?.vars.DATABRICKS_HOST).not.toBe(vars.DATABRICKS_HOST);
  });

  for (const route of routes) {
    it(`${route.method} ${route.path}`, async () => {
      const rule = ruleFor(route.method, route.path);
      const tokens: Record<Role, string> = {
        viewer: await sessionToken('viewer'),
        editor: await sessionToken('editor'),
        admin: await sessionToken('admin'),
      };
      const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
      // Sign-out would revoke the token under test; give it a throwaway one.
      const send = (auth?: string) =>
        call(concrete(route.path), {
          method: route.method,
          headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
          ...(hasBody ? { body: '{}' } : {}),
        });

      const anonymous = await send();
      if (rule === 'public') expect([401, 403]).not.toContain(anonymous.status);
      else expect(anonymous.status).toBe(401);

      for (const role of ROLES) {
        const res = await send(route.path === '/v1/auth/sign-out' ? await sessionToken(role) : tokens[role]);
        const allowed = rule === 'public' || (rule !== undefined && roleAtLeast(role, rule));
        if (allowed) expect([401, 403], `${role} should pass`).not.toContain(res.status);
        else expect(res.status, `${role} should be refused`).toBe(403);
      }
    });
  }
});
