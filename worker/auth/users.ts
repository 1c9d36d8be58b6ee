import type { Postgres } from '../services/postgres.ts';
import type { Role, User } from './roles.ts';

type Db = Pick<Postgres, 'query'>;

interface UserRow extends Record<string, unknown> {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string | null;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findActiveUserByEmail(db: Db, email: string): Promise<(User & { passwordHash: string | null }) | null> {
  const rows = await db.query<UserRow>(
    'SELECT id, email, name, role, password_hash FROM users WHERE email = $1 AND disabled_at IS NULL',
    [normaliseEmail(email)],
  );
  const row = rows[0];
  return row ? { id: row.id, email: row.email, name: row.name, role: row.role, passwordHash: row.password_hash } : null;
}

export async function findActiveUserById(db: Db, id: string): Promise<User | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const rows = await db.query<UserRow>('SELECT id, email, name, role FROM users WHERE id = $1 AND disabled_at IS NULL', [id]);
  const row = rows[0];
  return row ? { id: row.id, email: row.email, name: row.name, role: row.role } : null;
}

/** Creates the user, or updates role, name and password of an existing email (idempotent). */
export async function upsertUser(
  db: Db,
  input: { email: string; name: string; role: Role; passwordHash: string },
): Promise<User & { created: boolean }> {
  const rows = await db.query<UserRow & { created: boolean }>(
    `INSERT INTO users (email, name, role, password_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO UPDATE
       SET name = EXCLUDED.name, role = EXCLUDED.role, password_hash = EXCLUDED.password_hash, updated_at = now()
     RETURNING id, email, name, role, (xmax = 0) AS created`,
    [normaliseEmail(input.email), input.name, input.role, input.passwordHash],
  );
  const row = rows[0]!;
  return { id: row.id, email: row.email, name: row.name, role: row.role, created: Boolean(row.created) };
}
