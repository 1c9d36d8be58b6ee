import { z } from '@hono/zod-openapi';
import type { Postgres } from '../services/postgres.ts';
import { CreateWidgetSchema } from '../metrics/widgets/schema.ts';
import { DraftSchema } from './spec.ts';

type Db = Pick<Postgres, 'query'>;

export const StoredMessageSchema = z
  .object({
    role: z.enum(['user', 'assistant']),
    text: z.string(),
    at: z.string(),
    /** Set on an assistant turn whose spec the app refused: why, per field. */
    refused: z.array(z.object({ pointer: z.string(), message: z.string() })).optional(),
  })
  .openapi('ClarifierMessage');
export type StoredMessage = z.infer<typeof StoredMessageSchema>;

export const ConversationSchema = z
  .object({
    id: z.string(),
    status: z.enum(['open', 'complete']),
    source: z.enum(['bedrock', 'template']),
    messages: z.array(StoredMessageSchema),
    draft: DraftSchema,
    spec: CreateWidgetSchema.nullable().openapi({ description: 'The last spec that passed validation; accept it with POST /v1/widgets' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('ClarifierConversation');
export type Conversation = z.infer<typeof ConversationSchema>;

interface ConversationRow extends Record<string, unknown> {
  id: string;
  status: string;
  source: string;
  messages: unknown;
  draft: unknown;
  spec: unknown;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'id, status, source, messages, draft, spec, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toConversation(row: ConversationRow): Conversation {
  return ConversationSchema.parse({
    ...row,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  });
}

export async function createConversation(db: Db, userId: string, source: Conversation['source'], first: StoredMessage): Promise<Conversation> {
  const rows = await db.query<ConversationRow>(
    `INSERT INTO clarifier_conversations (user_id, source, messages) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
    [userId, source, JSON.stringify([first])],
  );
  return toConversation(rows[0]!);
}

/** Another user's conversation is indistinguishable from a missing one. */
export async function getConversation(db: Db, userId: string, id: string): Promise<Conversation | null> {
  if (!UUID.test(id)) return null;
  const rows = await db.query<ConversationRow>(`SELECT ${COLUMNS} FROM clarifier_conversations WHERE id = $1 AND user_id = $2`, [id, userId]);
  return rows[0] ? toConversation(rows[0]) : null;
}

/** Appends messages in one statement, so two tabs writing at once both keep their turns. */
export async function appendMessages(
  db: Db,
  userId: string,
  id: string,
  messages: readonly StoredMessage[],
  state: { source?: Conversation['source']; draft?: Conversation['draft']; spec?: Conversation['spec']; status?: Conversation['status'] } = {},
): Promise<Conversation | null> {
  const rows = await db.query<ConversationRow>(
    `UPDATE clarifier_conversations
        SET messages = messages || $3::jsonb,
            source = COALESCE($4, source),
            draft = COALESCE($5::jsonb, draft),
            spec = CASE WHEN $6::boolean THEN $7::jsonb ELSE spec END,
            status = COALESCE($8, status),
            updated_at = now()
      WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
    [
      id,
      userId,
      JSON.stringify(messages),
      state.source ?? null,
      state.draft === undefined ? null : JSON.stringify(state.draft),
      state.spec !== undefined,
      state.spec === undefined || state.spec === null ? null : JSON.stringify(state.spec),
      state.status ?? null,
    ],
  );
  return rows[0] ? toConversation(rows[0]) : null;
}
