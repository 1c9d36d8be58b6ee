import { z } from '@hono/zod-openapi';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/** Who is asking, however they proved it. */
export interface Identity {
  userId: string;
  email: string;
  name: string;
  role: Role;
  via: 'session' | 'api_token' | 'access' | 'stream_ticket';
  /** The session's jti (sessions and stream tickets) or the API token's id. */
  credentialId: string;
  /** Unix seconds at which the credential expires, when it does. */
  expiresAt: number | null;
  /**
   * The browser or API session behind a session or stream-ticket credential: its jti, the user's
   * session epoch it carries, and when it expires. Sign-out and epochs apply to it.
   */
  session?: { id: string; epoch: number; expiresAt: number };
}

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
  })
  .openapi('User');
export type User = z.infer<typeof UserSchema>;
