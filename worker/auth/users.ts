import type { Postgres } from '../services/postgres.ts';
import type { Role, User } from './roles.ts';

type Db = Pick<Postgres, 'query'>;

interface UserRow extends Record<string, unknown> {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string | null;
  session_epoch: number;
}

/** A user as authentication sees it: with the epoch sessions must carry (migrations/0012). */
export type ActiveUser = User & { sessionEpoch: number };

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findActiveUserByEmail(db: Db, email: string): Promise<(ActiveUser & { passwordHash: string | null }) | null> {
  const rows = await db.query<UserRow>(
    'SELECT id, email, name, role, password_hash, session_epoch FROM users WHERE email = $1 AND disabled_at IS NULL',
    [normaliseEmail(email)],
  );
  const row = rows[0];
  return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
}

export async function findActiveUserById(db: Db, id: string): Promise<ActiveUser | null> {
  if (!UUID.test(id)) return null;
  const rows = await db.query<UserRow>('SELECT id, email, name, role, session_epoch FROM users WHERE id = $1 AND disabled_at IS NULL', [id]);
  const row = rows[0];
  return row ? toUser(row) : null;
}

/** The active users among `ids`, with their epochs: one query for the hub's sweep. */
export async function activeUsersAmong(db: Db, ids: readonly string[]): Promise<Map<string, ActiveUser>> {
  const valid = ids.filter((id) => UUID.test(id));
  if (valid.length === 0) return new Map();
  const rows = await db.query<UserRow>('SELECT id, email, name, role, session_epoch FROM users WHERE id = ANY($1::uuid[]) AND disabled_at IS NULL', [valid]);
  return new Map(rows.map((row) => [row.id, toUser(row)]));
}

/** Ends every session of the user (sign-out everywhere); answers the new epoch. */
export async function bumpSessionEpoch(db: Db, id: string): Promise<number | null> {
  if (!UUID.test(id)) return null;
  const rows = await db.query<{ session_epoch: number }>('UPDATE users SET session_epoch = session_epoch + 1, updated_at = now() WHERE id = $1 RETURNING session_epoch', [id]);
  return rows[0] ? Number(rows[0].session_epoch) : null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toUser(row: UserRow): ActiveUser {
  return { id: row.id, email: row.email, name: row.name, role: row.role, sessionEpoch: Number(row.session_epoch) };
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
