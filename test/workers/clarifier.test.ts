import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity, Role } from '../../worker/auth/roles.ts';
import { listMetrics } from '../../worker/metrics/catalog/store.ts';
import type { Metric } from '../../worker/metrics/catalog/store.ts';
import { matchMetric, matchVisualization, matchWindow, offlineTurn } from '../../worker/clarifier/matcher.ts';
import { toModelMessages } from '../../worker/clarifier/model.ts';
import { MODEL_ATTEMPTS } from '../../worker/llm/service.ts';
import type { Conversation } from '../../worker/clarifier/store.ts';
import { bundledDictionary } from '../../worker/config/bundled.ts';
import { loadConfig } from '../../worker/config/env.ts';
import { createClarifierRoutes } from '../../worker/routes/clarifier.ts';
import type { ClarifierOptions } from '../../worker/routes/clarifier.ts';
import { widgetRoutes } from '../../worker/routes/widgets.ts';
import { createPostgres } from '../../worker/services/postgres.ts';
import { ProblemShape, control, expectProblem, json, localIdentities, releaseBedrockLock, routeTestApp, takeBedrockLock, vars } from './helpers.ts';


let identities = new Map<Role, Identity>();
let catalog: Metric[] = [];

beforeAll(async () => {
  identities = await localIdentities();
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const db = createPostgres(loaded.config);
  try {
    catalog = await listMetrics(db);
  } finally {
    await db.close();
  }
  await takeBedrockLock();
}, 180_000);

afterAll(async () => {
  await releaseBedrockLock();
});

/** The route's real budget is for people; these tests make more calls than that as one user. */
const ROOMY = { limit: { name: `tests-${crypto.randomUUID()}`, requests: 1_000, window: '1 m' as const } };

function testApp(options: { env?: Record<string, string>; routes?: ClarifierOptions; as?: Role } = {}) {
  return routeTestApp(
    (app) => app.route('/', createClarifierRoutes(options.routes ?? ROOMY)).route('/', widgetRoutes),
    identities.get(options.as ?? 'editor')!,
    options.env,
  );
}

const offline = { env: { BUILDER_MODE: 'offline' } };
const post = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const script = (...turns: unknown[]) => control('/bedrock/script', turns);
const clarify = (input: Record<string, unknown>) => ({ toolUse: { name: 'clarify_widget', input } });

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

async function readEvents(res: Response): Promise<{ id: string; events: SseEvent[] }> {
  const text = await res.text();
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${text}`);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
    });
  const done = events.at(-1);
  expect(done?.event).toBe('done');
  expect(done?.data.conversation_id).toBe(res.headers.get('x-conversation-id'));
  return { id: String(done!.data.conversation_id), events };
}

type Say = (message: string, conversationId?: string) => Promise<{ id: string; events: SseEvent[] }>;

function talker(app: ReturnType<typeof testApp>): Say {
  return async (message, conversationId) =>
    readEvents(await app('/v1/widgets/clarify', post({ message, ...(conversationId ? { conversation_id: conversationId } : {}) })));
}

const kinds = (events: SseEvent[]) => events.map((e) => e.event);
const find = (events: SseEvent[], kind: string) => events.find((e) => e.event === kind)?.data;

async function conversation(id: string, app = testApp()): Promise<Conversation> {
  return json<Conversation>(await app(`/v1/widgets/clarify/${id}`));
}

describe('clarifier, live mode against the Bedrock stand-in', () => {
  it('builds a valid widget spec in three turns over SSE, and the spec is accepted as a widget', async () => {
    const app = testApp();
    const say = talker(app);

    await script(clarify({ reply: 'Do you want the total claim volume, claims by product, or the status mix?', done: false }));
    const first = await say('I want a tile about claims');
    expect(kinds(first.events)).toEqual(['message', 'question', 'done']);
    expect(find(first.events, 'message')).toEqual({ role: 'assistant', text: 'Do you want the total claim volume, claims by product, or the status mix?' });
    expect(find(first.events, 'question')).toMatchObject({ missing: ['metric', 'time_window', 'visualization'] });

    await script(clarify({ reply: 'How should it be drawn?', metric: 'claims_by_product', window_preset: '7d', done: false }));
    const second = await say('By product, over the last week', first.id);
    expect(second.id).toBe(first.id);
    expect(find(second.events, 'question')).toMatchObject({ missing: ['visualization'] });

    await script(
      clarify({
        reply: 'Here is your tile: EMEA claims by product over the last 7 days, as a bar chart.',
        visualization: 'bar',
        filters_json: '[{"column": "region", "op": "eq", "value": "EMEA"}]',
        title: 'EMEA claims by product',
        done: true,
      }),
    );
    const third = await say('A bar chart, EMEA only', first.id);
    expect(kinds(third.events)).toEqual(['message', 'spec', 'done']);
    const spec = find(third.events, 'spec')!;
    expect(spec).toMatchObject({ source: 'bedrock', metric: { name: 'claims_by_product', display_name: 'Claims by product' } });
    expect(spec.spec).toEqual({
      title: 'EMEA claims by product',
      metric: 'claims_by_product',
      visualization: 'bar',
      time_window: { preset: '7d' },
      filters: [{ column: 'region', op: 'eq', value: 'EMEA' }],
    });
    expect(third.events.at(-1)!.data).toEqual({ conversation_id: first.id, status: 'complete' });

    // The conversation survives a reload.
    const stored = await conversation(first.id);
    expect(stored).toMatchObject({ id: first.id, status: 'complete', source: 'bedrock', spec: spec.spec });
    expect(stored.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(stored.messages[2]!.text).toBe('By product, over the last week');
    expect(stored.draft).toMatchObject({ metric: 'claims_by_product', window_preset: '7d', visualization: 'bar' });

    // The user accepts it as is.
    const widget = await json<{ id: string; metric: { name: string } }>(await app('/v1/widgets', post(spec.spec)), 201);
    expect(widget.metric.name).toBe('claims_by_product');
  });

  it('refuses a spec naming a metric outside the catalog, and keeps the conversation open', async () => {
    const say = talker(testApp());
    await script(clarify({ reply: 'Here is your tile.', metric: 'churn_forecast', window_preset: '30d', visualization: 'line', done: true }));
    const turn = await say('Show me the churn forecast over 30 days as a line');
    expect(kinds(turn.events)).toEqual(['message', 'error', 'done']);
    const problem = ProblemShape.parse(find(turn.events, 'error'));
    expect(problem).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(problem.errors).toEqual([{ pointer: 'spec/metric', message: expect.stringContaining('churn_forecast') }]);
    const stored = await conversation(turn.id);
    expect(stored).toMatchObject({ status: 'open', spec: null });
    expect(stored.messages.at(-1)?.refused?.[0]?.pointer).toBe('spec/metric');
    // What was refused is told back to the model on the next turn.
    expect(JSON.stringify(toModelMessages(stored.messages))).toContain('The app refused that spec: spec/metric');

    await script(clarify({ reply: 'That metric does not exist; did you mean the repeat contact rate?', metric: 'repeat_contact_rate', done: false }));
    const next = await say('ok', turn.id);
    expect(find(next.events, 'question')).toMatchObject({ missing: [] });
  });

  it('refuses filters the dictionary does not have', async () => {
    const say = talker(testApp());
    const bad = [
      ['[{"column": "planet", "op": "eq", "value": "Mars"}]', 'spec/filters/0', /planet/],
      ['[{"column": "region", "op": "eq", "value": "Atlantis"}]', 'spec/filters/0', /Atlantis is not one of/],
      ['not json', 'spec/filters', /not valid JSON/],
      ['[{"column": "region", "op": "like", "value": "%E%"}]', 'spec/filters/0/op', /./],
    ] as const;
    for (const [filters_json, pointer, message] of bad) {
      await script(clarify({ reply: 'Done.', metric: 'claim_volume', window_preset: '7d', visualization: 'kpi', filters_json, done: true }));
      const turn = await say('claim volume, filtered');
      const problem = ProblemShape.parse(find(turn.events, 'error'));
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.[0]?.pointer).toBe(pointer);
      expect(problem.errors?.[0]?.message).toMatch(message);
      expect(find(turn.events, 'spec')).toBeUndefined();
    }
  });

  it('reports a failing model as an llm_unavailable error event, keeping the user’s message', async () => {
    const say = talker(testApp());
    await script(...Array.from({ length: MODEL_ATTEMPTS }, () => ({ status: 500 })));
    const turn = await say('claims by product please');
    expect(kinds(turn.events)).toEqual(['error', 'done']);
    expect(ProblemShape.parse(find(turn.events, 'error'))).toMatchObject({ status: 503, code: 'llm_unavailable' });
    const stored = await conversation(turn.id);
    expect(stored.messages).toHaveLength(1);

    // A model answer without the tool call fails the same way.
    await script({ text: 'Happy to help!' });
    const again = await say('hello?', turn.id);
    const problem = ProblemShape.parse(find(again.events, 'error'));
    expect(problem.code).toBe('llm_unavailable');
    expect(problem.detail).toContain('no_tool_call');

    // The next good turn sees both user messages, joined into one.
    await script(clarify({ reply: 'Which window?', metric: 'claims_by_product', done: false }));
    const ok = await say('by product', turn.id);
    expect(find(ok.events, 'question')).toMatchObject({ missing: ['time_window', 'visualization'] });
    expect(toModelMessages((await conversation(turn.id)).messages)[0]).toMatchObject({ role: 'user', content: expect.stringContaining('hello?') });
  });
});

describe('clarifier, offline mode', () => {
  it('builds a spec for "claims by product last 7 days as a bar chart" in one turn', async () => {
    const app = testApp(offline);
    const turn = await talker(app)('claims by product last 7 days as a bar chart');
    expect(kinds(turn.events)).toEqual(['message', 'spec', 'done']);
    const spec = find(turn.events, 'spec')!;
    expect(spec).toMatchObject({ source: 'template' });
    expect(spec.spec).toEqual({
      title: 'Claims by product · last 7 days',
      metric: 'claims_by_product',
      visualization: 'bar',
      time_window: { preset: '7d' },
      filters: [],
    });
    expect(await conversation(turn.id, app)).toMatchObject({ status: 'complete', source: 'template', spec: spec.spec });
    await json(await app('/v1/widgets', post(spec.spec)), 201);
  });

  it('asks for what it cannot infer, one thing at a time', async () => {
    const app = testApp(offline);
    const say = talker(app);
    const first = await say('I need a new tile');
    expect(find(first.events, 'question')).toMatchObject({ missing: ['metric', 'time_window', 'visualization'] });
    expect(String(find(first.events, 'question')!.text)).toMatch(/Which catalog metric/);

    const second = await say('claim volume', first.id);
    expect(find(second.events, 'question')).toMatchObject({ missing: ['time_window', 'visualization'] });
    expect(String(find(second.events, 'question')!.text)).toMatch(/time window/);

    const third = await say('the past 2 weeks', first.id);
    expect(String(find(third.events, 'question')!.text)).toMatch(/not one the dashboard offers/);

    const fourth = await say('30 days then', first.id);
    expect(find(fourth.events, 'question')).toMatchObject({ missing: ['visualization'] });

    const fifth = await say('a kpi tile, EMEA and APAC only', first.id);
    expect(find(fifth.events, 'spec')!.spec).toEqual({
      title: 'Claim volume · last 30 days',
      metric: 'claim_volume',
      visualization: 'kpi',
      time_window: { preset: '30d' },
      filters: [{ column: 'region', op: 'in', value: ['EMEA', 'APAC'] }],
    });
    expect((await conversation(first.id, app)).messages).toHaveLength(10);
  });

  it('matches names, display names and synonyms, and says when a request is ambiguous', () => {
    const pick = (text: string) => {
      const m = matchMetric(text, catalog);
      return m && 'metric' in m ? m.metric.name : m ? m.ambiguous.map((x) => x.name) : null;
    };
    expect(pick('claims by product')).toBe('claims_by_product');
    expect(pick('Claim status mix as a pie')).toBe('claim_status_mix');
    expect(pick('how many claims were filed')).toBe('claim_volume');
    expect(pick('our CSAT')).toBe('csat_avg');
    expect(pick('AHT trend')).toBe('avg_handle_time');
    expect(pick('cost_avoided_mtd')).toBe('cost_avoided_mtd');
    expect(pick('something about the weather')).toBeNull();
    expect(matchWindow('last 24 hours')).toBe('24h');
    expect(matchWindow('over the past week')).toBe('7d');
    expect(matchWindow('7d')).toBe('7d');
    expect(matchWindow('month to date')).toBe('mtd');
    expect(matchWindow('last 90 days')).toBe('90d');
    expect(matchWindow('the last 5 days')).toBe('unsupported');
    expect(matchWindow('EMEA and APAC')).toBeNull();
    expect(matchWindow('over an hour')).toBe('1h');
    expect(matchVisualization('a pie, or maybe a table')).toBe('pie');
    expect(matchVisualization('show the trend')).toBe('line');
    const same = offlineTurn(['claims by product last 7 days as a bar chart'], catalog, bundledDictionary());
    expect(offlineTurn(['claims by product last 7 days as a bar chart'], catalog, bundledDictionary())).toEqual(same);
  });
});

describe('clarifier conversations and limits', () => {
  it('keeps conversations to their owner', async () => {
    const turn = await talker(testApp(offline))('claims by product last 7 days as a bar chart');
    await expectProblem(await testApp({ as: 'admin' })(`/v1/widgets/clarify/${turn.id}`), 404, 'not_found');
    await expectProblem(await testApp({ ...offline, as: 'admin' })('/v1/widgets/clarify', post({ message: 'hi', conversation_id: turn.id })), 404, 'not_found');
    await expectProblem(await testApp()('/v1/widgets/clarify/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
  });

  it('validates the request before streaming', async () => {
    const app = testApp(offline);
    await expectProblem(await app('/v1/widgets/clarify', post({ message: '   ' })), 422, 'validation_failed');
    await expectProblem(await app('/v1/widgets/clarify', post({ message: 'x'.repeat(2_001) })), 422, 'validation_failed');
    await expectProblem(await app('/v1/widgets/clarify', post({ message: 'hi', conversation_id: 'nope' })), 422, 'validation_failed');
  });

  it('answers 429 with Retry-After once a user’s budget is spent', async () => {
    const routes = { limit: { name: `clarify-test-${crypto.randomUUID()}`, requests: 2, window: '1 m' as const } };
    const app = testApp({ ...offline, routes });
    for (let i = 0; i < 2; i++) await readEvents(await app('/v1/widgets/clarify', post({ message: 'claim volume' })));
    const res = await app('/v1/widgets/clarify', post({ message: 'claim volume' }));
    await expectProblem(res.clone(), 429, 'rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
