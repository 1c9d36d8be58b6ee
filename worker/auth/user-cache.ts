import type { Postgres } from '../services/postgres.ts';
import { findActiveUserById } from './users.ts';
import type { ActiveUser } from './users.ts';
import { Lru } from '../lib/lru.ts';

/**
 * Active users by id, remembered in the isolate for a few seconds: every authenticated request
 * needs the caller's current role, and a Postgres round trip (often a new connection) per request
 * costs more than the rest of a cached tile. A demotion or a disabled account therefore takes
 * effect within USER_TTL_MS everywhere (it also moves the user's session epoch, which ends the
 * user's sessions); a sign-out, and a sign-out everywhere made through the worker, are checked
 * against Redis on every request and take effect at once. Unknown or disabled ids are not remembered, so a re-enabled account works
 * on its next request.
 */
export const USER_TTL_MS = 10_000;
const MAX_ENTRIES = 2_000;
const users = new Lru<string, ActiveUser>(MAX_ENTRIES);

export async function activeUserById(db: Pick<Postgres, 'query'>, id: string): Promise<ActiveUser | null> {
  const hit = users.get(id);
  if (hit) return hit;
  const user = await findActiveUserById(db, id);
  if (user) {
    users.set(id, user, USER_TTL_MS);
  }
  return user;
}

/** Drops one user, after a change this isolate made itself. */
export function forgetUser(id: string): void {
  users.delete(id);
}

/** For tests and the CLI path that changes roles within one process. */
export function forgetUsers(): void {
  users.clear();
}
