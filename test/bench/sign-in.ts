import { LOCAL_USERS } from '../stack/users.ts';
import type { Role } from '../../worker/auth/roles.ts';

/** Signs in as the local stack's user of `role` the way an API client does; answers the bearer token. */
export async function signIn(url: string, role: Role): Promise<string> {
  const user = LOCAL_USERS.find((u) => u.role === role)!;
  const res = await fetch(`${url}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`sign-in as ${role} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}
