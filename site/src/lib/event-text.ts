/**
 * One line per live event for the dashboard's feed, in a support leader's words rather than the
 * wire's: "Claim filed · Device Care · APAC · $80 avoided", not "claim.filed". Unknown types and
 * missing fields degrade to what is there; nothing here throws on a message it did not expect.
 */
export interface FeedLine {
  text: string;
  /** `alert` for critical alerts, so the feed can set them apart. */
  tone: 'normal' | 'alert';
}

type Data = Record<string, unknown>;

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
const join = (...parts: Array<string | null>) => parts.filter((p): p is string => p !== null).join(' · ');
const usd = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? `$${Math.round(v).toLocaleString('en-US')} avoided` : null);
const words = (v: unknown) => str(v)?.replace(/_/g, ' ') ?? null;

export function describeEvent(d: Data): FeedLine {
  switch (d.event_type) {
    case 'claim.filed':
      return { text: join('Claim filed', str(d.product), str(d.region), usd(d.cost_avoided)), tone: 'normal' };
    case 'claim.status_changed':
      return { text: join(`Claim ${str(d.claim_id) ?? ''}`.trim(), words(d.status) && `now ${words(d.status)}`), tone: 'normal' };
    case 'session.started':
      return { text: join('Session started', words(d.issue_type), str(d.channel) && `via ${str(d.channel)}`, str(d.region)), tone: 'normal' };
    case 'session.resolved': {
      const nps = typeof d.nps_impact === 'number' ? `NPS ${d.nps_impact > 0 ? '+' : ''}${d.nps_impact}` : null;
      return { text: join('Session resolved', words(d.outcome), nps), tone: 'normal' };
    }
    case 'alert.opened':
      return { text: join(`Alert${str(d.severity) ? ` (${str(d.severity)})` : ''}`, str(d.title)), tone: d.severity === 'critical' ? 'alert' : 'normal' };
    case 'alert.resolved':
      return { text: join('Alert resolved', str(d.alert_id)), tone: 'normal' };
    default:
      return { text: join(str(d.event_type) ?? 'Event', str(d.region)), tone: 'normal' };
  }
}

/** The event's own time, as the reader's clock shows it. */
export function eventTime(occurredAt: unknown): string | null {
  const ms = typeof occurredAt === 'string' ? Date.parse(occurredAt) : Number.NaN;
  return Number.isNaN(ms) ? null : new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
