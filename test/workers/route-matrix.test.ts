import { describe, expect, it } from 'vitest';
import { getApi } from '../../worker/api.ts';
import { ruleFor } from '../../worker/auth/policy.ts';
import { roleAtLeast, ROLES } from '../../worker/auth/roles.ts';
import type { Role } from '../../worker/auth/roles.ts';
import { call, sessionToken } from './helpers.ts';

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
