import { z } from '@hono/zod-openapi';
import type { Metric } from '../metrics/catalog/store.ts';
import { FilterSchema, checkFilters } from '../metrics/compose/filters.ts';
import type { Filter } from '../metrics/compose/filters.ts';
import { WINDOW_PRESETS } from '../metrics/compose/window.ts';
import type { DataDictionary } from '../dictionary/load.ts';
import type { FieldProblem } from '../http/errors.ts';
import { zodProblems } from '../http/problem.ts';
import { CreateWidgetSchema, VISUALIZATIONS } from '../metrics/widgets/schema.ts';

/**
 * What the clarifier has understood so far, and the one gate a finished spec passes: the same
 * checks POST /v1/widgets makes (CreateWidgetSchema, an active catalog metric, dictionary filters),
 * so a spec the clarifier offers is one the user can accept as is.
 */

export type Visualization = (typeof VISUALIZATIONS)[number];
export type WindowPreset = (typeof WINDOW_PRESETS)[number];

export const DraftSchema = z
  .object({
    metric: z.string().optional(),
    visualization: z.enum(VISUALIZATIONS).optional(),
    window_preset: z.enum(WINDOW_PRESETS).optional(),
    filters: z.array(FilterSchema).optional(),
    title: z.string().optional(),
  })
  .openapi('ClarifierDraft');
export type Draft = z.infer<typeof DraftSchema>;

export type WidgetSpec = z.output<typeof CreateWidgetSchema>;

/** The parts a spec cannot do without, in the order the clarifier asks for them. */
export const REQUIRED_FIELDS = ['metric', 'time_window', 'visualization'] as const;
export type RequiredField = (typeof REQUIRED_FIELDS)[number];

export function missingFields(draft: Draft): RequiredField[] {
  const missing: RequiredField[] = [];
  if (!draft.metric) missing.push('metric');
  if (!draft.window_preset) missing.push('time_window');
  if (!draft.visualization) missing.push('visualization');
  return missing;
}

export const WINDOW_LABELS: Record<WindowPreset, string> = {
  '1h': 'last hour',
  '24h': 'last 24 hours',
  '7d': 'last 7 days',
  '30d': 'last 30 days',
  '90d': 'last 90 days',
  mtd: 'month to date',
};

export function defaultTitle(metric: Metric, preset: WindowPreset): string {
  return `${metric.display_name} · ${WINDOW_LABELS[preset]}`.slice(0, 120);
}

/**
 * `filters_json` as the model writes it: a JSON array of {column, op, value}. Problems point at
 * `spec/filters[/i]`.
 */
export function parseFiltersJson(text: string): { filters: Filter[] } | { problems: FieldProblem[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { problems: [{ pointer: 'spec/filters', message: 'filters_json is not valid JSON' }] };
  }
  const parsed = z.array(FilterSchema).max(10).safeParse(raw);
  if (!parsed.success) return { problems: zodProblems(parsed.error, 'spec/filters') };
  return { filters: parsed.data };
}

export type SpecCheck =
  | { ok: true; spec: WidgetSpec; metric: Metric }
  | { ok: false; missing: RequiredField[]; problems: FieldProblem[] };

export function checkSpec(draft: Draft, catalog: readonly Metric[], dictionary: DataDictionary): SpecCheck {
  const missing = missingFields(draft);
  if (missing.length > 0) return { ok: false, missing, problems: [] };
  const metric = catalog.find((m) => m.name === draft.metric && !m.retired_at);
  if (!metric) {
    return { ok: false, missing: [], problems: [{ pointer: 'spec/metric', message: `${draft.metric} is not a metric in the catalog` }] };
  }
  const candidate = {
    title: draft.title?.trim() || defaultTitle(metric, draft.window_preset!),
    metric: metric.name,
    visualization: draft.visualization,
    time_window: { preset: draft.window_preset },
    filters: draft.filters ?? [],
  };
  const parsed = CreateWidgetSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, missing: [], problems: zodProblems(parsed.error, 'spec') };
  const filterProblems = checkFilters(parsed.data.filters, metric.lineage.tables, dictionary).map((p) => ({
    pointer: p.pointer.replace(/^body\//, 'spec/'),
    message: p.message,
  }));
  if (filterProblems.length > 0) return { ok: false, missing: [], problems: filterProblems };
  return { ok: true, spec: parsed.data, metric };
}
