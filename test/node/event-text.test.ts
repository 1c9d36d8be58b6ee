import { describe, expect, it } from 'vitest';
import { describeEvent, eventTime } from '../../site/src/lib/event-text.ts';

describe('live event lines', () => {
  it('speaks each event type in words', () => {
    const lines = [
      { event_type: 'claim.filed', product: 'Device Care', region: 'APAC', cost_avoided: 80.4 },
      { event_type: 'claim.status_changed', claim_id: 'K123', status: 'approved' },
      { event_type: 'session.started', issue_type: 'device_setup', channel: 'chat', region: 'EMEA' },
      { event_type: 'session.resolved', outcome: 'resolved', nps_impact: 3 },
      { event_type: 'session.resolved', outcome: 'escalated', nps_impact: -2 },
      { event_type: 'alert.opened', severity: 'critical', title: 'SLA breach rate above 60%' },
      { event_type: 'alert.resolved', alert_id: 'A9' },
    ].map((d) => describeEvent(d));
    expect(lines.map((l) => l.text)).toEqual([
      'Claim filed · Device Care · APAC · $80 avoided',
      'Claim K123 · now approved',
      'Session started · device setup · via chat · EMEA',
      'Session resolved · resolved · NPS +3',
      'Session resolved · escalated · NPS -2',
      'Alert (critical) · SLA breach rate above 60%',
      'Alert resolved · A9',
    ]);
    expect(lines.map((l) => l.tone)).toEqual(['normal', 'normal', 'normal', 'normal', 'normal', 'alert', 'normal']);
  });

  it('degrades to what is there for unknown types and missing fields, without throwing', () => {
    expect(describeEvent({ event_type: 'queue.paused', region: 'NA' }).text).toBe('queue.paused · NA');
    expect(describeEvent({}).text).toBe('Event');
    expect(describeEvent({ event_type: 'claim.filed', cost_avoided: 'lots' }).text).toBe('Claim filed');
    expect(describeEvent({ event_type: 'alert.opened', severity: 'warning' })).toEqual({ text: 'Alert (warning)', tone: 'normal' });
  });

  it('reads the time only from a real timestamp', () => {
    expect(eventTime('2026-11-22T10:03:12Z')).toMatch(/\d{2}:03:12/);
    expect(eventTime('yesterday')).toBeNull();
    expect(eventTime(undefined)).toBeNull();
  });
});
