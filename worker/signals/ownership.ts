/**
 * Ownership rules (config/signal_ownership.yaml): which person a new signal is assigned to. The
 * worker bundles the file (ownership-bundled.ts) and checks it once per isolate, like the metric
 * routing; a broken file stops the signals routes with 500 config_invalid rather than assigning
 * signals by half a rule set. The CLI reads the same file from disk.
 */
import { parse } from 'yaml';
import { z } from 'zod';
import { ApiError } from '../http/errors.ts';
import type { Postgres } from '../services/postgres.ts';
import { ENTITY_TYPES } from './schemas.ts';

const email = z.string().trim().toLowerCase().pipe(z.email().max(254));

const RuleSchema = z.strictObject({
  match: z
    .strictObject({
      entity_type: z.enum(ENTITY_TYPES).optional(),
      entity_id: z.string().min(1).max(128).optional(),
      metric: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/).optional(),
    })
    .refine((m) => Object.keys(m).length > 0, 'a rule must match on something (entity_type, entity_id or metric)'),
  owner: email,
});

const OwnershipFileSchema = z.strictObject({
  version: z.literal(1),
  default_owner: email.nullable().default(null),
  rules: z.array(RuleSchema).max(500).default([]),
});
export type OwnershipRules = z.infer<typeof OwnershipFileSchema>;

export type OwnershipCheck = { ok: true; rules: OwnershipRules } | { ok: false; problems: string[] };

export function parseOwnership(text: string): OwnershipCheck {
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    return { ok: false, problems: [`signal_ownership.yaml is not valid YAML: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const parsed = OwnershipFileSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `signal_ownership.yaml ${i.path.join('.') || '(root)'}: ${i.message}`) };
  return { ok: true, rules: parsed.data };
}

const checked = new Map<string, OwnershipCheck>();

/** The rules, or config_invalid when the file is broken (checked once per isolate and text). */
export function checkedOwnership(text: string): OwnershipRules {
  let result = checked.get(text);
  if (!result) {
    result = parseOwnership(text);
    checked.set(text, result);
  }
  if (!result.ok) throw new ApiError('config_invalid', `config/signal_ownership.yaml is invalid: ${result.problems.join('; ')}`);
  return result.rules;
}

/** The owner email for a signal: the first rule that fits, else the default. */
export function ownerEmailFor(rules: OwnershipRules, signal: { entity_type: string; entity_id: string; metric_name: string }): string | null {
  for (const rule of rules.rules) {
    const m = rule.match;
    if (m.entity_type !== undefined && m.entity_type !== signal.entity_type) continue;
    if (m.entity_id !== undefined && m.entity_id !== signal.entity_id) continue;
    if (m.metric !== undefined && m.metric !== signal.metric_name) continue;
    return rule.owner;
  }
  return rules.default_owner;
}

/**
 * The rules' owners as user ids. An owner who is not an active editor or admin is left out
 * (their signals stay unassigned) and named, so the run can say so.
 */
export async function resolveOwners(postgres: Pick<Postgres, 'query'>, rules: OwnershipRules): Promise<{ ids: Map<string, string>; unknown: string[] }> {
  const emails = [...new Set([...rules.rules.map((r) => r.owner), ...(rules.default_owner ? [rules.default_owner] : [])])];
  if (emails.length === 0) return { ids: new Map(), unknown: [] };
  const rows = await postgres.query<{ id: string; email: string }>(
    `SELECT id, email FROM users WHERE email = ANY($1::text[]) AND disabled_at IS NULL AND role IN ('editor', 'admin')`,
    [emails],
  );
  const ids = new Map(rows.map((r) => [r.email, r.id]));
  return { ids, unknown: emails.filter((e) => !ids.has(e)) };
}
