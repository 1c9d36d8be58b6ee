import { z } from 'zod';

/**
 * The incident settings the worker reads from its environment, beside the shared config
 * (worker/config/env.ts):
 * - INCIDENT_TIME_SCALE (0 < s ≤ 1, dev and tests only): every scripted phase, step and approval
 *   timeout is multiplied by it, so a 15-20 s incident runs in 0.15-0.2 s at 0.01.
 * - INCIDENT_WEBHOOK_URL: a Slack incoming webhook the communication agent posts to; unset, the
 *   notification is recorded as not configured and nothing is sent.
 * - INCIDENT_LIMIT: incidents that may run at once (active or waiting for approval); one more is
 *   429. 0 turns starting incidents off.
 */
const SettingsSchema = z
  .object({
    APP_ENV: z.enum(['development', 'test', 'production']).default('production'),
    INCIDENT_TIME_SCALE: z.coerce.number().gt(0).max(1).default(1),
    INCIDENT_WEBHOOK_URL: z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
      .pipe(z.url({ protocol: /^https?$/ }).optional()),
    INCIDENT_LIMIT: z.coerce.number().int().min(0).max(1_000).default(100),
  })
  .refine((s) => s.APP_ENV !== 'production' || s.INCIDENT_TIME_SCALE === 1, {
    message: 'INCIDENT_TIME_SCALE compresses incidents for development and tests; production runs them at 1',
    path: ['INCIDENT_TIME_SCALE'],
  });

export type IncidentSettings = z.infer<typeof SettingsSchema>;
export type SettingsResult = { ok: true; settings: IncidentSettings } | { ok: false; problems: string[] };

const cache = new WeakMap<object, SettingsResult>();

export function incidentSettings(env: object): SettingsResult {
  const hit = cache.get(env);
  if (hit) return hit;
  const e = env as Record<string, unknown>;
  const parsed = SettingsSchema.safeParse({
    APP_ENV: e.APP_ENV,
    INCIDENT_TIME_SCALE: e.INCIDENT_TIME_SCALE,
    INCIDENT_WEBHOOK_URL: e.INCIDENT_WEBHOOK_URL,
    INCIDENT_LIMIT: e.INCIDENT_LIMIT,
  });
  const result: SettingsResult = parsed.success
    ? { ok: true, settings: parsed.data }
    : { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  cache.set(env, result);
  return result;
}
