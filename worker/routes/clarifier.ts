import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { listMetrics } from '../metrics/catalog/store.ts';
import type { ClarifierEventData, ClarifierEventName } from '../clarifier/events.ts';
import { BUDGETS, spend } from '../http/rate-limit.ts';
import type { Budget } from '../http/rate-limit.ts';
import { ConversationSchema, appendMessages, createConversation, getConversation } from '../clarifier/store.ts';
import type { Conversation, StoredMessage } from '../clarifier/store.ts';
import { clarifyTurn } from '../clarifier/turn.ts';
import type { TurnOutcome } from '../clarifier/turn.ts';
import { bundledDictionary } from '../config/bundled.ts';
import { newApp } from '../http/app.ts';
import { ApiError, codeToStatus } from '../http/errors.ts';
import { logFailure, problemBody, toProblem } from '../http/problem.ts';
import { problems } from '../http/schemas.ts';
import { createPostgres } from '../services/postgres.ts';

/** A conversation longer than this has lost its way; the user starts a new one. */
const MAX_MESSAGES = 40;

const ClarifyRequestSchema = z
  .strictObject({
    conversation_id: z.uuid().optional().openapi({ description: 'Continue this conversation; omit to start one' }),
    message: z.string().trim().min(1).max(2_000),
  })
  .openapi('ClarifyRequest');

const clarifyRoute = createRoute({
  method: 'post',
  path: '/v1/widgets/clarify',
  tags: ['widgets'],
  summary: 'Describe a tile; the clarifier asks for what is missing and proposes a widget spec (editor)',
  description: [
    'Answers with Server-Sent Events; the conversation id is in the `x-conversation-id` header and the `done` event.',
    '`message` {role, text}: the assistant’s turn. `question` {text, missing}: what it needs next.',
    '`spec` {spec, source, metric}: a widget spec that passed the same checks as POST /v1/widgets, ready to send there.',
    '`error`: a problem object (`llm_unavailable` when the model cannot answer; `validation_failed` with field pointers when a proposed metric or filter does not exist).',
    '`done` {conversation_id, status}: always last. With BUILDER_MODE=offline a deterministic catalog matcher answers and specs say `source: template`.',
  ].join(' '),
  request: { body: { required: true, content: { 'application/json': { schema: ClarifyRequestSchema } } } },
  responses: {
    200: { description: 'The assistant’s turn as an event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...problems(400, 401, 403, 404, 409, 415, 422, 429, 503),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/widgets/clarify/{id}',
  tags: ['widgets'],
  summary: 'A clarifier conversation of the caller’s, to pick it up after a reload (editor)',
  request: { params: z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    200: { description: 'The conversation', content: { 'application/json': { schema: ConversationSchema } } },
    ...problems(401, 403, 404, 422, 503),
  },
});

export interface ClarifierOptions {
  limit?: Budget;
}

function stateAfter(outcome: TurnOutcome): { status: Conversation['status']; spec?: Conversation['spec'] } {
  if (outcome.kind === 'spec') return { status: 'complete', spec: outcome.spec };
  // A conversation that goes on after a spec keeps that spec until a new one passes.
  return { status: 'open' };
}

export function createClarifierRoutes(options: ClarifierOptions = {}) {
  const limit = options.limit ?? BUDGETS.clarify;
  return newApp()
    .openapi(clarifyRoute, async (c) => {
      const config = c.get('config');
      const services = c.get('services');
      const userId = c.get('identity')!.userId;
      const requestId = c.get('requestId');
      const body = c.req.valid('json');
      await spend(c, limit);

      const source: Conversation['source'] = config.BUILDER_MODE === 'offline' ? 'template' : 'bedrock';
      const said: StoredMessage = { role: 'user', text: body.message, at: new Date().toISOString() };
      let conversation: Conversation | null;
      if (body.conversation_id) {
        const existing = await getConversation(services.postgres, userId, body.conversation_id);
        if (!existing) throw new ApiError('not_found', 'No such conversation.');
        if (existing.messages.length >= MAX_MESSAGES) {
          throw new ApiError('conflict', `This conversation has reached ${MAX_MESSAGES} messages; start a new one.`);
        }
        conversation = await appendMessages(services.postgres, userId, existing.id, [said], { source });
        if (!conversation) throw new ApiError('not_found', 'No such conversation.');
      } else {
        conversation = await createConversation(services.postgres, userId, source, said);
      }
      const catalog = await listMetrics(services.postgres);
      const started = conversation;
      c.header('x-conversation-id', started.id);

      return streamSSE(c, async (stream) => {
        const send = <E extends ClarifierEventName>(event: E, data: ClarifierEventData<E>) => stream.writeSSE({ event, data: JSON.stringify(data) });
        // The stream is already 200, so failures travel as `error` events, described as the error
        // handler would describe them; server-side ones are logged the way it logs a 5xx.
        const fail = async (err: unknown) => {
          const problem = toProblem(err);
          if (codeToStatus(problem.code) >= 500) logFailure(c, err, 'clarifier turn failed');
          await send('error', problemBody(problem.code, problem.detail, requestId, problem.errors));
        };
        // The request's services close when the handler returns, before the stream is done; the
        // stream writes its turn through a pool of its own and closes it at the end.
        const db = createPostgres(config, undefined, c.get('log'));
        let status = started.status;
        try {
          // A model failure ends the turn here as an llm_unavailable `error` event (the catch below).
          const outcome: TurnOutcome = await clarifyTurn(
            { mode: config.BUILDER_MODE, bedrock: services.bedrock.client, catalog, dictionary: bundledDictionary() },
            { draft: started.draft, messages: started.messages },
          );

          await send('message', { role: 'assistant', text: outcome.reply });
          const reply: StoredMessage = {
            role: 'assistant',
            text: outcome.reply,
            at: new Date().toISOString(),
            ...(outcome.kind === 'refused' ? { refused: outcome.problems } : {}),
          };
          const next = stateAfter(outcome);
          const saved = await appendMessages(db, userId, started.id, [reply], { draft: outcome.draft, ...next });
          status = saved?.status ?? next.status;

          if (outcome.kind === 'question') {
            await send('question', { text: outcome.reply, missing: outcome.missing });
          } else if (outcome.kind === 'spec') {
            const m = outcome.metric;
            await send('spec', { spec: outcome.spec, source, metric: { name: m.name, version: m.version, display_name: m.display_name, unit: m.unit } });
          } else {
            await fail(new ApiError('validation_failed', 'The proposed widget does not fit the catalog or the data dictionary.', { errors: outcome.problems }));
          }
        } catch (err) {
          await fail(err);
        } finally {
          await send('done', { conversation_id: started.id, status });
          await db.close();
        }
      });
    })
    .openapi(getRoute, async (c) => {
      const conversation = await getConversation(c.get('services').postgres, c.get('identity')!.userId, c.req.valid('param').id);
      if (!conversation) throw new ApiError('not_found', 'No such conversation.');
      c.header('cache-control', 'no-store');
      return c.json(conversation, 200);
    });
}

export const clarifierRoutes = createClarifierRoutes();
