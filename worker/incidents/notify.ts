import type { Severity } from './messages.ts';

export interface Summary {
  incident_id: string;
  title: string;
  severity: Severity;
  status: 'resolved' | 'failed';
  service: string;
  region: string | null;
  product: string | null;
  root_cause: string;
  detection_confidence: number;
  cascade_risk: number;
  steps_completed: number;
  /** Where the incident's page is, when the site's origin is known. */
  url: string | null;
}

/**
 * The message in Slack's incoming-webhook format: `text` is the notification and fallback, the
 * blocks lay it out (header, the findings as fields, a link to the incident).
 */
export function slackPayload(s: Summary): { text: string; blocks: unknown[] } {
  const outcome = s.status === 'resolved' ? 'resolved automatically' : 'could not be resolved automatically; remediation was rolled back';
  const text = `[${s.severity.toUpperCase()}] ${s.title}: ${outcome}.`;
  const field = (label: string, value: string) => ({ type: 'mrkdwn', text: `*${label}*\n${value}` });
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${s.status === 'resolved' ? 'Resolved' : 'Failed'}: ${s.title}`.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'section',
        fields: [
          field('Service', s.service),
          field('Region', s.region ?? 'n/a'),
          field('Product', s.product ?? 'n/a'),
          field('Root cause', s.root_cause),
          field('Detection confidence', `${Math.round(s.detection_confidence * 100)}%`),
          field('Cascade risk', `${Math.round(s.cascade_risk * 100)}%`),
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Incident ${s.incident_id} · ${s.steps_completed}/5 remediation steps${s.url ? ` · <${s.url}|timeline>` : ''}` }] },
    ],
  };
}

/** Posts to the webhook; a non-2xx answer or a network failure throws, and the step retries. */
export async function postWebhook(url: string, payload: unknown, timeoutMs: number): Promise<{ status: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
  });
  // Slack answers "ok"; the body is drained either way so the connection is released.
  const body = await res.text();
  if (!res.ok) throw new Error(`the incident webhook answered ${res.status}: ${body.slice(0, 200)}`);
  return { status: res.status };
}
