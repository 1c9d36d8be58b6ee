import { sign, verify } from 'hono/jwt';
import type { Role } from './roles.ts';

/** Session and stream-ticket JWTs: HS256 only; any other algorithm, `none` included, is refused. */
const ALG = 'HS256' as const;
export const SESSION_COOKIE = 'cc_session';

export interface SessionClaims {
  sub: string;
  email: string;
  name: string;
  role: Role;
  /** session: a signed-in browser or API client; stream: a one-minute WebSocket ticket. */
  typ: 'session' | 'stream';
  jti: string;
  iat: number;
  exp: number;
  /** The user's session epoch when issued; absent on older tokens, which count as epoch 0. */
  epc?: number;
  /** Stream tickets: the session (jti) and its expiry that the ticket was minted from. */
  sid?: string;
  sx?: number;
}

/** Who a token is for; `sessionEpoch` absent means 0, the epoch every account starts at. */
export interface TokenSubject {
  id: string;
  email: string;
  name: string;
  role: Role;
  sessionEpoch?: number;
}

export async function issueToken(
  user: TokenSubject,
  typ: SessionClaims['typ'],
  ttlSeconds: number,
  secret: string,
  parent?: { sid: string; sx: number },
): Promise<{ token: string; claims: SessionClaims }> {
  const now = Math.floor(Date.now() / 1000);
  const claims: SessionClaims = {
    sub: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    typ,
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + ttlSeconds,
    epc: user.sessionEpoch ?? 0,
    ...(parent ?? {}),
  };
  return { token: await sign({ ...claims }, secret, ALG), claims };
}

/** Returns the claims of a valid, unexpired token of the expected type, or null. */
export async function readToken(token: string, secret: string, typ: SessionClaims['typ']): Promise<SessionClaims | null> {
  if (token.length > 4096) return null;
  try {
    const payload = (await verify(token, secret, { alg: ALG })) as Partial<SessionClaims>;
    if (payload.typ !== typ || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return null;
    if (payload.role !== 'viewer' && payload.role !== 'editor' && payload.role !== 'admin') return null;
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return null;
    if (payload.epc !== undefined && !(Number.isInteger(payload.epc) && payload.epc >= 0)) return null;
    if (payload.sid !== undefined && typeof payload.sid !== 'string') return null;
    if (payload.sx !== undefined && typeof payload.sx !== 'number') return null;
    return payload as SessionClaims;
  } catch {
    return null;
  }
}
