import type { Metric } from '../metrics/catalog/store.ts';
import type { DataDictionary } from '../dictionary/load.ts';
import type { Config } from '../config/env.ts';
import type { FieldProblem } from '../http/errors.ts';
import type { BedrockClient } from '../llm/bedrock.ts';
import { offlineTurn } from './matcher.ts';
import { modelTurn } from './model.ts';
import type { ClarifyInput } from './model.ts';
import { checkSpec, missingFields, parseFiltersJson } from './spec.ts';
import type { Draft, RequiredField, WidgetSpec } from './spec.ts';
import type { StoredMessage } from './store.ts';

/**
 * One clarifier turn: the transcript so far in, the assistant's answer out. The answer is a
 * question (something is missing), a spec (complete and valid), or a refusal (complete, but the
 * metric or a filter does not exist); a refusal keeps the conversation open.
 */
export type TurnOutcome =
  | { kind: 'question'; reply: string; draft: Draft; missing: RequiredField[] }
  | { kind: 'spec'; reply: string; draft: Draft; spec: WidgetSpec; metric: Metric }
  | { kind: 'refused'; reply: string; draft: Draft; problems: FieldProblem[] };

export interface TurnDeps {
  mode: Config['BUILDER_MODE'];
  bedrock: BedrockClient;
  catalog: readonly Metric[];
  dictionary: DataDictionary;
}

export interface TurnState {
  draft: Draft;
  messages: readonly StoredMessage[];
}

/** The model's fields over the draft: what it states replaces, what it leaves out stays. */
function mergeDraft(draft: Draft, input: ClarifyInput): { draft: Draft; problems: FieldProblem[] } {
  const next: Draft = { ...draft };
  if (input.metric) next.metric = input.metric.trim();
  if (input.visualization) next.visualization = input.visualization;
  if (input.window_preset) next.window_preset = input.window_preset;
  if (input.title?.trim()) next.title = input.title.trim();
  if (input.filters_json === undefined || input.filters_json === null || input.filters_json.trim() === '') return { draft: next, problems: [] };
  const parsed = parseFiltersJson(input.filters_json);
  if ('problems' in parsed) return { draft: next, problems: parsed.problems };
  next.filters = parsed.filters;
  return { draft: next, problems: [] };
}

export async function clarifyTurn(deps: TurnDeps, state: TurnState): Promise<TurnOutcome> {
  if (deps.mode === 'offline') {
    const users = state.messages.filter((m) => m.role === 'user').map((m) => m.text);
    const offline = offlineTurn(users, deps.catalog, deps.dictionary);
    if (offline.missing.length > 0) return { kind: 'question', reply: offline.reply, draft: offline.draft, missing: offline.missing };
    const check = checkSpec(offline.draft, deps.catalog, deps.dictionary);
    if (check.ok) return { kind: 'spec', reply: offline.reply, draft: offline.draft, spec: check.spec, metric: check.metric };
    return { kind: 'refused', reply: offline.reply, draft: offline.draft, problems: check.problems };
  }

  const input = await modelTurn(deps.bedrock, deps.catalog, deps.dictionary, state.draft, state.messages);
  const { draft, problems } = mergeDraft(state.draft, input);
  if (problems.length > 0) return { kind: 'refused', reply: input.reply, draft, problems };
  if (!input.done) return { kind: 'question', reply: input.reply, draft, missing: missingFields(draft) };
  const check = checkSpec(draft, deps.catalog, deps.dictionary);
  if (check.ok) return { kind: 'spec', reply: input.reply, draft: { ...draft, title: check.spec.title }, spec: check.spec, metric: check.metric };
  if (check.missing.length > 0) return { kind: 'question', reply: input.reply, draft, missing: check.missing };
  return { kind: 'refused', reply: input.reply, draft, problems: check.problems };
}
