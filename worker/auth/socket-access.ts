import type { Postgres } from '../services/postgres.ts';
import type { RedisService } from '../services/redis.ts';
import { revokedAmong } from './revocation.ts';
import type { Identity } from './roles.ts';
import { activeUsersAmong } from './users.ts';

/** What a hub socket remembers of the credential it was opened with (durable-objects/dashboard-hub.ts). */
export interface SocketCredential {
  userId: string;
  via: Identity['via'];
  /** Sessions and tickets: the session's jti; API tokens: the token's id; Access: 'access'. */
  credentialId: string;
  /** The session epoch the credential carries (sessions and tickets). */
  epoch: number;
  /** Unix seconds; the socket is closed then. */
  expiresAt: number | null;
}

/** The hub's request headers carrying the credential; the stream route sets them, clients cannot. */
export const HUB_CREDENTIAL_HEADER = 'x-hub-credential';

export function socketCredential(identity: Identity): SocketCredential {
  const session = identity.session;
  return {
    userId: identity.userId,
    via: identity.via,
    credentialId: session?.id ?? identity.credentialId,
    epoch: session?.epoch ?? 0,
    expiresAt: session?.expiresAt ?? identity.expiresAt,
  };
}

export function parseSocketCredential(header: string | null): SocketCredential | null {
  if (!header) return null;
  try {
    const v = JSON.parse(header) as Partial<SocketCredential>;
    if (typeof v.userId !== 'string' || typeof v.credentialId !== 'string' || typeof v.via !== 'string') return null;
    if (!Number.isInteger(v.epoch) || (v.expiresAt !== null && typeof v.expiresAt !== 'number')) return null;
    return { userId: v.userId, via: v.via as Identity['via'], credentialId: v.credentialId, epoch: v.epoch!, expiresAt: v.expiresAt ?? null };
  } catch {
    return null;
  }
}

/**
 * Which of these credentials no longer grant access: the user is gone or disabled, a session or
 * ticket's session was signed out or is from an older epoch (sign-out everywhere, a role,
 * password or status change), an API token was revoked or expired. One Postgres query for the
 * users and tokens and one Redis read for the revocations, however many sockets.
 */
export async function endedCredentials(
  services: { postgres: Pick<Postgres, 'query'>; redis: RedisService },
  credentials: readonly SocketCredential[],
): Promise<boolean[]> {
  const sessions = credentials.filter((c) => c.via === 'session' || c.via === 'stream_ticket').map((c) => c.credentialId);
  const tokens = credentials.filter((c) => c.via === 'api_token').map((c) => c.credentialId);
  const [users, liveTokens, revoked] = await Promise.all([
    activeUsersAmong(services.postgres, [...new Set(credentials.map((c) => c.userId))]),
    liveApiTokens(services.postgres, tokens),
    revokedAmong(services.redis, [...new Set(sessions)]),
  ]);
  return credentials.map((c) => {
    const user = users.get(c.userId);
    if (!user) return true;
    if (c.via === 'api_token') return !liveTokens.has(c.credentialId);
    if (c.via === 'session' || c.via === 'stream_ticket') return revoked.has(c.credentialId) || c.epoch < user.sessionEpoch;
    return false;
  });
}

async function liveApiTokens(db: Pick<Postgres, 'query'>, ids: readonly string[]): Promise<Set<string>> {
  const valid = [...new Set(ids)].filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  if (valid.length === 0) return new Set();
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM api_tokens WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
    [valid],
  );
  return new Set(rows.map((r) => r.id));
}
