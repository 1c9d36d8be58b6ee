import type { Postgres } from '../services/postgres.ts';
import type { User } from './roles.ts';
import { findActiveUserById } from './users.ts';
import { Lru } from '../lib/lru.ts';

/**
 * Active users by id, remembered in the isolate for a few seconds: every authenticated request
 * needs the caller's current role, and a Postgres round trip (often a new connection) per request
 * costs more than the rest of a cached tile. A demotion or a disabled account therefore takes
 * effect within USER_TTL_MS everywhere; a sign-out is checked against Redis on every request and
 * takes effect at once. Unknown or disabled ids are not remembered, so a re-enabled account works
 * on its next request.
 */
export const USER_TTL_MS = 10_000;
const MAX_ENTRIES = 2_000;
const users = new Lru<string, User>(MAX_ENTRIES);

export async function activeUserById(db: Pick<Postgres, 'query'>, id: string): Promise<User | null> {
  const hit = users.get(id);
  if (hit) return hit;
  const user = await findActiveUserById(db, id);
  if (user) {
    users.set(id, user, USER_TTL_MS);
  }
  return user;
}

/** For tests and the CLI path that changes roles within one process. */
export function forgetUsers(): void {
  users.clear();
}
