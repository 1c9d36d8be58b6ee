/**
 * What the detection, diagnosis and prediction agents conclude, from the operational data in
 * Postgres around the incident: its open alerts, the sessions and escalations in its regions,
 * the claims on its products. Different data gives different confidence, cause and risk.
 */
import type { Postgres } from '../services/postgres.ts';

export interface Window {
  /** A little before the incident's effects landed. */
  from: Date;
  to: Date;
}

/** How far back the baseline rate of sessions is measured. */
const BASELINE_MINUTES = 60;

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Evidence weights: what one piece of matching evidence says on its own. */
const ALERT_WEIGHT = { critical: 0.45, warning: 0.25, info: 0.1 } as const;

export interface Detection {
  confidence: number;
  details: {
    metrics_analyzed: number;
    anomalies_detected: number;
    alerts: { critical: number; warning: number; info: number; naming_affected_services: number };
    sessions: { started: number; escalated: number; escalation_share: number };
    claims_filed: number;
    pattern_match: string | null;
    confidence_formula: string;
  };
}

/**
 * Detection: the alerts opened in the window that name an affected service, and the share of
 * sessions in the affected regions that escalated. Each alert is independent evidence weighted
 * by severity; the escalation share adds its own: confidence = 1 − (1 − 0.6·share) · Π(1 − w_alert),
 * clamped to [0.05, 0.99].
 */
export async function detect(db: Pick<Postgres, 'query'>, w: Window, services: readonly string[], regions: readonly string[], products: readonly string[]): Promise<Detection> {
  const [alerts, sessions, claims] = await Promise.all([
    db.query<{ severity: 'critical' | 'warning' | 'info'; title: string; names_service: boolean }>(
      `SELECT severity, title, EXISTS (SELECT 1 FROM unnest($3::text[]) s WHERE position(s IN a.title) > 0) AS names_service
         FROM alerts a WHERE a.opened_at >= $1 AND a.opened_at <= $2 AND a.resolved_at IS NULL
        ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, opened_at`,
      [w.from.toISOString(), w.to.toISOString(), services],
    ),
    db.query<{ started: number; escalated: number }>(
      `SELECT count(*)::int AS started, count(*) FILTER (WHERE outcome = 'escalated')::int AS escalated
         FROM issue_sessions WHERE started_at >= $1 AND started_at <= $2 AND region = ANY($3::text[])`,
      [w.from.toISOString(), w.to.toISOString(), regions],
    ),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM claims WHERE opened_at >= $1 AND opened_at <= $2 AND product = ANY($3::text[])', [w.from.toISOString(), w.to.toISOString(), products]),
  ]);
  const counts = { critical: 0, warning: 0, info: 0, naming_affected_services: 0 };
  let miss = 1;
  for (const a of alerts) {
    counts[a.severity]++;
    if (a.names_service) {
      counts.naming_affected_services++;
      miss *= 1 - ALERT_WEIGHT[a.severity];
    }
  }
  const started = Number(sessions[0]?.started ?? 0);
  const escalated = Number(sessions[0]?.escalated ?? 0);
  const share = started > 0 ? escalated / started : 0;
  miss *= 1 - 0.6 * share;
  const confidence = r3(clamp(1 - miss, 0.05, 0.99));
  const top = alerts.find((a) => a.names_service);
  return {
    confidence,
    details: {
      metrics_analyzed: alerts.length + started + Number(claims[0]?.n ?? 0),
      anomalies_detected: counts.naming_affected_services + (share >= 0.25 ? 1 : 0),
      alerts: counts,
      sessions: { started, escalated, escalation_share: r3(share) },
      claims_filed: Number(claims[0]?.n ?? 0),
      pattern_match: top?.title ?? null,
      confidence_formula: 'confidence = 1 − (1 − 0.6 × escalation_share) × Π over alerts naming an affected service of (1 − w), w = 0.45 critical, 0.25 warning, 0.1 info',
    },
  };
}

export interface Diagnosis {
  confidence: number;
  service: string;
  region: string | null;
  product: string | null;
  root_cause: string;
  details: {
    service_mentions: Record<string, number>;
    escalations_by_region: Record<string, number>;
    claims_by_product: Record<string, number>;
    blast_radius: { regions: number; products: number; services: number };
  };
}

/**
 * Diagnosis: the affected service the open alerts name most, the region with the most
 * escalations and the product with the most claims in the window. Confidence is how
 * concentrated the evidence is: the mean of the leaders' shares.
 */
export async function diagnose(db: Pick<Postgres, 'query'>, w: Window, services: readonly string[]): Promise<Diagnosis> {
  const [mentions, regions, products] = await Promise.all([
    db.query<{ service: string; n: number; top_title: string | null }>(
      `SELECT s AS service, count(a.alert_id)::int AS n,
              (array_agg(a.title ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END) FILTER (WHERE a.alert_id IS NOT NULL))[1] AS top_title
         FROM unnest($3::text[]) s
         LEFT JOIN alerts a ON position(s IN a.title) > 0 AND a.opened_at >= $1 AND a.opened_at <= $2 AND a.resolved_at IS NULL
        GROUP BY s ORDER BY n DESC, s`,
      [w.from.toISOString(), w.to.toISOString(), services],
    ),
    db.query<{ region: string; n: number }>(
      `SELECT region, count(*)::int AS n FROM issue_sessions
        WHERE started_at >= $1 AND started_at <= $2 AND outcome = 'escalated' GROUP BY region ORDER BY n DESC, region`,
      [w.from.toISOString(), w.to.toISOString()],
    ),
    db.query<{ product: string; n: number }>(
      'SELECT product, count(*)::int AS n FROM claims WHERE opened_at >= $1 AND opened_at <= $2 GROUP BY product ORDER BY n DESC, product',
      [w.from.toISOString(), w.to.toISOString()],
    ),
  ]);
  const share = (rows: Array<{ n: number }>) => {
    const total = rows.reduce((s, r) => s + Number(r.n), 0);
    return total > 0 ? Number(rows[0]!.n) / total : 0;
  };
  const shares = [share(mentions), share(regions), share(products)].filter((x) => x > 0);
  const confidence = r3(clamp(shares.length > 0 ? shares.reduce((a, b) => a + b, 0) / shares.length : 0.05, 0.05, 0.99));
  const leader = mentions[0];
  const service = leader?.service ?? services[0]!;
  const region = regions[0]?.region ?? null;
  const product = products[0]?.product ?? null;
  return {
    confidence,
    service,
    region,
    product,
    root_cause: leader?.top_title ?? `Degradation in ${service}`,
    details: {
      service_mentions: Object.fromEntries(mentions.map((m) => [m.service, Number(m.n)])),
      escalations_by_region: Object.fromEntries(regions.map((r) => [r.region, Number(r.n)])),
      claims_by_product: Object.fromEntries(products.map((p) => [p.product, Number(p.n)])),
      blast_radius: { regions: regions.length, products: products.length, services: mentions.filter((m) => Number(m.n) > 0).length },
    },
  };
}

export interface Prediction {
  /** 0-1: how likely the incident spreads if left alone. */
  cascade_risk: number;
  details: {
    sessions_per_minute: number;
    baseline_per_minute: number;
    rate_ratio: number;
    escalation_acceleration: number;
    minutes_observed: number;
    projected_cost_unattended: number;
    risk_formula: string;
  };
}

/**
 * Prediction: the rate of new sessions in the affected regions since the incident began against
 * the hour before it, and how much faster escalations arrive than before. Risk rises with the log
 * of the rate ratio: risk = 1 − exp(−(ln(1 + ratio) + acceleration) / 6), clamped to [0.01, 0.99].
 */
export async function predict(
  db: Pick<Postgres, 'query'>,
  w: Window,
  regions: readonly string[],
  cost: { cost_per_minute: number; manual_mttr_minutes: number },
): Promise<Prediction> {
  const [row] = await db.query<{ now_n: number; base_n: number; now_esc: number; base_esc: number }>(
    `SELECT count(*) FILTER (WHERE started_at >= $1)::int AS now_n,
            count(*) FILTER (WHERE started_at < $1)::int AS base_n,
            count(*) FILTER (WHERE started_at >= $1 AND outcome = 'escalated')::int AS now_esc,
            count(*) FILTER (WHERE started_at < $1 AND outcome = 'escalated')::int AS base_esc
       FROM issue_sessions
      WHERE started_at >= $1::timestamptz - make_interval(mins => $4) AND started_at <= $2 AND region = ANY($3::text[])`,
    [w.from.toISOString(), w.to.toISOString(), regions, BASELINE_MINUTES],
  );
  // At least a minute: a compressed incident must not turn a handful of sessions into a huge rate.
  const minutes = Math.max(1, (w.to.getTime() - w.from.getTime()) / 60_000);
  const rate = Number(row?.now_n ?? 0) / minutes;
  const baseline = Math.max(Number(row?.base_n ?? 0) / BASELINE_MINUTES, 1 / BASELINE_MINUTES);
  const ratio = rate / baseline;
  const escNow = Number(row?.now_esc ?? 0) / minutes;
  const escBase = Math.max(Number(row?.base_esc ?? 0) / BASELINE_MINUTES, 1 / BASELINE_MINUTES);
  const acceleration = Math.log1p(escNow / escBase) / 2;
  const risk = r3(clamp(1 - Math.exp(-(Math.log1p(ratio) + acceleration) / 6), 0.01, 0.99));
  return {
    cascade_risk: risk,
    details: {
      sessions_per_minute: r2(rate),
      baseline_per_minute: r3(baseline),
      rate_ratio: r2(ratio),
      escalation_acceleration: r3(acceleration),
      minutes_observed: r2(minutes),
      projected_cost_unattended: Math.round(cost.cost_per_minute * cost.manual_mttr_minutes * risk),
      risk_formula: 'risk = 1 − exp(−(ln(1 + sessions_per_minute / baseline_per_minute) + ln(1 + escalation rate ratio) / 2) / 6)',
    },
  };
}
