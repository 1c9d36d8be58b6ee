// Plain TypeScript with no bundled text, so `npm run check` runs the same check under node
// (scripts/scenarios-check.ts) as the worker runs when it loads (playbook.ts).
import { z } from 'zod';
import { LineCounter, parseDocument } from 'yaml';
import type { DataDictionary } from '../dictionary/load.ts';
import { SEVERITIES } from './messages.ts';

export const SCENARIOS_FILE = 'config/incident_scenarios.yaml';

const Seconds = z.number().positive().max(120);
const Phases = z.strictObject({ detection: Seconds, diagnosis: Seconds, prediction: Seconds, communication: Seconds });

const ScenarioSchema = z.strictObject({
  label: z.string().min(1).max(60),
  title: z.string().min(3).max(200),
  severity: z.enum(SEVERITIES),
  description: z.string().min(1).max(400),
  affected: z.strictObject({
    services: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/)).min(1).max(20),
    regions: z.array(z.string()).min(1),
    products: z.array(z.string()).min(1),
  }),
  effects: z.strictObject({
    alerts: z
      .array(z.strictObject({ severity: z.enum(['info', 'warning', 'critical']), title: z.string().min(1).max(200), metric: z.string().optional() }))
      .min(1)
      .max(10),
    sessions_opened: z.number().int().min(0).max(200),
    sessions_escalated: z.number().int().min(0).max(200),
    issue_type: z.string(),
    claims_filed: z.number().int().min(0).max(100),
  }),
  phases: Phases.optional(),
  remediation: z
    .array(z.strictObject({ action: z.string().min(1).max(120), compensation: z.string().min(1).max(120), seconds: Seconds }))
    .length(5, 'exactly five remediation steps'),
  approval: z.discriminatedUnion('required', [
    z.strictObject({ required: z.literal(false) }),
    z.strictObject({ required: z.literal(true), timeout_seconds: z.number().int().min(10).max(86_400) }),
  ]),
  cost: z.strictObject({ cost_per_minute: z.number().positive().max(1_000_000), manual_mttr_minutes: z.number().positive().max(10_000) }),
});

const FileSchema = z.strictObject({
  version: z.literal(1),
  defaults: z.strictObject({
    phases: Phases,
    retries: z.strictObject({ limit: z.number().int().min(0).max(10), delay_seconds: z.number().positive().max(60) }),
    step_timeout_seconds: z.number().positive().max(600),
  }),
  scenarios: z.record(z.string().regex(/^[a-z][a-z0-9_]{1,40}$/, 'scenario ids are snake_case'), ScenarioSchema),
  custom: ScenarioSchema,
});

type RawScenario = z.infer<typeof ScenarioSchema>;

/** A scenario with the file's defaults applied. */
export interface Scenario extends Omit<RawScenario, 'phases'> {
  id: string;
  phases: z.infer<typeof Phases>;
}

export interface Playbook {
  scenarios: ReadonlyMap<string, Scenario>;
  /** What an incident described by hand runs. */
  custom: Scenario;
  retries: { limit: number; delay_seconds: number };
  step_timeout_seconds: number;
}

export type PlaybookCheck = { ok: true; playbook: Playbook } | { ok: false; problems: string[] };

/**
 * Parses and validates the scenarios file. Regions, products and the issue type must be values
 * the data dictionary lists, since the effects are ingested as events and ingest refuses others.
 * Every problem names its line and column in the file, then the path of the value.
 */
export function checkPlaybook(text: string, dictionary: DataDictionary): PlaybookCheck {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => `${SCENARIOS_FILE}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1} is not valid YAML: ${e.message.split('\n')[0]}`) };
  }
  /** Where a path points in the file: the nearest node the path reaches (a missing key points at its parent). */
  const at = (path: ReadonlyArray<PropertyKey>): string => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n).map((k) => (typeof k === 'symbol' ? String(k) : k)), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const { line, col } = lines.linePos(node.range[0]);
        return `${SCENARIOS_FILE}:${line}:${col}`;
      }
    }
    return `${SCENARIOS_FILE}:1:1`;
  };
  const problem = (path: ReadonlyArray<PropertyKey>, message: string) => `${at(path)} ${path.map(String).join('.') || '(file)'}: ${message}`;
  const parsed = FileSchema.safeParse(doc.toJS());
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => problem(i.path, i.message)) };
  const file = parsed.data;
  const allowed = (table: string, column: string) => new Set(dictionary.column(table, column)?.allowedValues ?? []);
  const regions = allowed('customers', 'region');
  const products = allowed('claims', 'product');
  const issueTypes = allowed('issue_sessions', 'issue_type');
  const problems: string[] = [];
  const build = (id: string, s: RawScenario, where: string[]): Scenario => {
    for (const [i, r] of s.affected.regions.entries()) {
      if (!regions.has(r)) problems.push(problem([...where, 'affected', 'regions', i], `${id}: region ${r} is not one of ${[...regions].join(', ')}`));
    }
    for (const [i, p] of s.affected.products.entries()) {
      if (!products.has(p)) problems.push(problem([...where, 'affected', 'products', i], `${id}: product ${p} is not one of ${[...products].join(', ')}`));
    }
    if (!issueTypes.has(s.effects.issue_type)) {
      problems.push(problem([...where, 'effects', 'issue_type'], `${id}: issue_type ${s.effects.issue_type} is not one of ${[...issueTypes].join(', ')}`));
    }
    return { ...s, id, phases: s.phases ?? file.defaults.phases };
  };
  const scenarios = new Map(Object.entries(file.scenarios).map(([id, s]) => [id, build(id, s, ['scenarios', id])] as const));
  const custom = build('custom', file.custom, ['custom']);
  if (scenarios.has('custom')) problems.push(problem(['scenarios', 'custom'], 'custom is the hand-described playbook; name the scenario otherwise'));
  for (const required of ['database_cascade', 'api_slowdown', 'service_down', 'memory_leak']) {
    if (!scenarios.has(required)) problems.push(problem(['scenarios'], `${required} is missing`));
  }
  if (scenarios.get('database_cascade')?.approval.required) {
    problems.push(problem(['scenarios', 'database_cascade', 'approval', 'required'], 'database_cascade runs unattended end to end: approval.required must be false'));
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, playbook: { scenarios, custom, retries: file.defaults.retries, step_timeout_seconds: file.defaults.step_timeout_seconds } };
}
