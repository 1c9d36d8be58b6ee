import type { Postgres } from '../services/postgres.ts';
import { displayPrefix, generateApiToken, hashApiToken } from './api-tokens.ts';
import type { Role, User } from './roles.ts';

type Db = Pick<Postgres, 'query'>;

export interface ApiTokenRecord {
  id: string;
  name: string;
  prefix: string;
  user: User;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface TokenRow extends Record<string, unknown> {
  id: string;
  name: string;
  token_prefix: string;
  created_at: Date | string;
  expires_at: Date | string | null;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
  user_id: string;
  email: string;
  user_name: string;
  role: Role;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

const SELECT = `SELECT t.id, t.name, t.token_prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
                       u.id AS user_id, u.email, u.name AS user_name, u.role
                  FROM api_tokens t JOIN users u ON u.id = t.user_id`;

function toRecord(row: TokenRow): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.token_prefix,
    user: { id: row.user_id, email: row.email, name: row.user_name, role: row.role },
    created_at: iso(row.created_at)!,
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
  };
}

export async function createApiToken(
  db: Db,
  input: { userId: string; name: string; expiresAt: Date | null },
): Promise<{ token: string; record: ApiTokenRecord }> {
  const token = generateApiToken();
  const rows = await db.query<{ id: string }>(
    `INSERT INTO api_tokens (user_id, name, token_prefix, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [input.userId, input.name, displayPrefix(token), await hashApiToken(token), input.expiresAt],
  );
  const record = await getApiToken(db, rows[0]!.id);
  return { token, record: record! };
}

export async function getApiToken(db: Db, id: string): Promise<ApiTokenRecord | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const rows = await db.query<TokenRow>(`${SELECT} WHERE t.id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listApiTokens(db: Db): Promise<ApiTokenRecord[]> {
  const rows = await db.query<TokenRow>(`${SELECT} ORDER BY t.created_at DESC`);
  return rows.map(toRecord);
}

/** Revoking twice keeps the first revocation time. */
export async function revokeApiToken(db: Db, id: string): Promise<ApiTokenRecord | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  await db.query('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1', [id]);
  return getApiToken(db, id);
}

/** The user behind a live token: not revoked, not expired, user not disabled. */
export async function resolveApiToken(db: Db, token: string): Promise<{ tokenId: string; user: User; expiresAt: number | null } | null> {
  const rows = await db.query<TokenRow>(
    `${SELECT} WHERE t.token_hash = $1 AND t.revoked_at IS NULL
        AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.disabled_at IS NULL`,
    [await hashApiToken(token)],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    tokenId: row.id,
    user: { id: row.user_id, email: row.email, name: row.user_name, role: row.role },
    expiresAt: row.expires_at ? Math.floor(new Date(row.expires_at).getTime() / 1000) : null,
  };
}

export async function touchApiToken(db: Db, id: string): Promise<void> {
  // Once a minute is plenty for "last used"; it spares a write on every request.
  await db.query(
    `UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}
