import { z } from 'zod';
import type { Metric } from '../metrics/catalog/store.ts';
import { WINDOW_PRESETS } from '../metrics/compose/window.ts';
import type { DataDictionary } from '../dictionary/load.ts';
import { callTool } from '../llm/bedrock.ts';
import type { BedrockClient, Message } from '../llm/bedrock.ts';
import { VISUALIZATIONS } from '../metrics/widgets/schema.ts';
import type { Draft } from './spec.ts';
import type { StoredMessage } from './store.ts';

/**
 * The live clarifier's model turn: one forced call of `clarify_widget`, whose input is flat (no
 * nesting, no top-level combinators) so Bedrock accepts it and small models fill it reliably.
 * Filters travel as a JSON string for the same reason; spec.ts parses and checks them.
 */

export const ClarifyInputSchema = z.object({
  reply: z.string().min(1).max(2_000).describe('What to say to the user: one question about what is still missing, or a short confirmation when done'),
  metric: z.string().max(64).nullish().describe('The catalog metric name (snake_case) once known'),
  visualization: z.enum(VISUALIZATIONS).nullish().describe('The chart once known'),
  window_preset: z.enum(WINDOW_PRESETS).nullish().describe('The time window once known'),
  filters_json: z
    .string()
    .max(4_000)
    .nullish()
    .describe('JSON array of filters, each {"column": "<dictionary column>", "op": "eq"|"neq"|"in", "value": <value or list>}; "[]" for none'),
  title: z.string().max(120).nullish().describe('A short tile title'),
  done: z.boolean().describe('true only when metric, window and chart are all known and the user has nothing more to add'),
});
export type ClarifyInput = z.infer<typeof ClarifyInputSchema>;

export const CLARIFY_TOOL = {
  name: 'clarify_widget',
  description: 'Reply to the user and record what is known so far about the dashboard tile they want.',
  schema: ClarifyInputSchema,
};


function describeCatalog(catalog: readonly Metric[], dictionary: DataDictionary): string {
  const lines: string[] = [];
  for (const metric of catalog) {
    lines.push(`- ${metric.name}: ${metric.display_name}. ${metric.description} (unit ${metric.unit})`);
    const filterable: string[] = [];
    for (const table of metric.lineage.tables) {
      for (const column of dictionary.table(table)?.columns ?? []) {
        if (column.type.kind === 'TIMESTAMP') continue;
        const values = column.allowedValues.length > 0 ? ` (${column.allowedValues.join('|')})` : '';
        filterable.push(`${column.name} ${column.type.kind}${values}`);
      }
    }
    if (filterable.length > 0) lines.push(`  filterable columns: ${[...new Set(filterable)].join('; ')}`);
  }
  return lines.join('\n');
}

/** Deterministic for a given catalog, dictionary and draft. */
export function clarifierSystemPrompt(catalog: readonly Metric[], dictionary: DataDictionary, draft: Draft): string {
  return [
    'You help a support leader add a tile to their operations dashboard. Find out, one question at a time, what is missing:',
    '1. which catalog metric (only the names listed below exist; offer the closest ones when the request does not match),',
    `2. the time window (one of ${WINDOW_PRESETS.join(', ')}),`,
    `3. the chart (one of ${VISUALIZATIONS.join(', ')}),`,
    '4. optional filters on the listed columns, with the listed values exactly as written.',
    'Always answer by calling clarify_widget. Repeat every field already known, so nothing is lost between turns. Never invent metrics, columns or values.',
    '',
    '## Catalog',
    describeCatalog(catalog, dictionary),
    '',
    '## Known so far',
    JSON.stringify(draft),
  ].join('\n');
}

/**
 * The transcript as Converse wants it: starting with the user, roles alternating (consecutive
 * turns of one role are joined, e.g. a user message after a failed model call). A refused spec is
 * told back to the model so it can correct it.
 */
export function toModelMessages(messages: readonly StoredMessage[]): Message[] {
  const out: Array<{ role: 'user' | 'assistant'; text: string }> = [];
  for (const m of messages) {
    const text = m.refused?.length
      ? `${m.text}\n[The app refused that spec: ${m.refused.map((p) => `${p.pointer}: ${p.message}`).join('; ')}]`
      : m.text;
    const last = out.at(-1);
    if (last && last.role === m.role) last.text = `${last.text}\n\n${text}`;
    else out.push({ role: m.role, text });
  }
  while (out[0] && out[0].role !== 'user') out.shift();
  return out.map((m) => (m.role === 'user' ? { role: 'user', content: m.text } : { role: 'assistant', content: [{ text: m.text }] }));
}

export async function modelTurn(
  client: BedrockClient,
  catalog: readonly Metric[],
  dictionary: DataDictionary,
  draft: Draft,
  messages: readonly StoredMessage[],
): Promise<ClarifyInput> {
  const result = await callTool(client, {
    system: clarifierSystemPrompt(catalog, dictionary, draft),
    messages: toModelMessages(messages),
    tool: CLARIFY_TOOL,
    maxTokens: 1_024,
    temperature: 0,
  });
  return result.input;
}
