import { Client } from '@neondatabase/serverless';
import { hashPassword } from '../../worker/auth/password.ts';
import type { Role } from '../../worker/auth/roles.ts';
import { upsertUser } from '../../worker/auth/users.ts';

/** The three users every local stack has (the README lists them). Production has none. */
export const LOCAL_USERS: ReadonlyArray<{ email: string; name: string; role: Role; password: string }> = [
  { email: 'admin@command-center.local', name: 'Ada Admin', role: 'admin', password: 'admin-local-password' },
  { email: 'editor@command-center.local', name: 'Eddie Editor', role: 'editor', password: 'editor-local-password' },
  { email: 'viewer@command-center.local', name: 'Vera Viewer', role: 'viewer', password: 'viewer-local-password' },
];

/** Creates or updates users through the same code path as `npm run user:create`. */
export async function ensureUsers(
  databaseUrl: string,
  users: ReadonlyArray<{ email: string; name: string; role: Role; password: string }>,
): Promise<Array<{ email: string; role: Role; created: boolean }>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const db = { query: async <T,>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[] };
    const out = [];
    for (const u of users) {
      const saved = await upsertUser(db as never, { ...u, passwordHash: await hashPassword(u.password) });
      out.push({ email: saved.email, role: saved.role, created: saved.created });
    }
    return out;
  } finally {
    await client.end();
  }
}
