import { describe, expect, it } from 'vitest';
import type { Action } from '../../site/src/lib/incident-data.ts';
import { actionLine, agentStates, detailText, finding, formatConfidence, inOrder, laterOf, statusText } from '../../site/src/lib/incident-text.ts';

let t = 0;
const act = (over: Partial<Action>): Action => ({
  action_id: 'detection',
  agent_type: 'detection',
  kind: 'phase',
  step: null,
  description: 'Analyzing',
  status: 'in_progress',
  started_at: new Date(Date.UTC(2026, 0, 1, 0, 0, t++)).toISOString(),
  duration_ms: null,
  attempt: 1,
  confidence: null,
  details: {},
  ...over,
});

describe('incident text', () => {
  it('tells a forward failure apart from a failed compensation', () => {
    expect(statusText({ status: 'failed', kind: 'remediation', attempt: 3 })).toBe('Failed');
    expect(statusText({ status: 'failed', kind: 'rollback', attempt: 1 })).toBe('Rollback failed');
    expect(statusText({ status: 'completed', kind: 'rollback', attempt: 1 })).toBe('Rolled back');
    expect(statusText({ status: 'rollback_failed', kind: 'remediation', attempt: 1 })).toBe('Rollback failed');
    expect(statusText({ status: 'retrying', kind: 'phase', attempt: 2 })).toBe('Retrying (attempt 2)');
  });

  it('never lets an earlier report of a step replace a later one', () => {
    const done = act({ status: 'completed', confidence: 0.94 });
    expect(laterOf(done, act({ status: 'in_progress' })).status).toBe('completed');
    expect(laterOf(act({ status: 'in_progress' }), done).status).toBe('completed');
    expect(laterOf(act({ kind: 'remediation', status: 'completed' }), act({ kind: 'remediation', status: 'rolled_back' })).status).toBe('rolled_back');
  });

  it('derives each agent from its latest action and its last confidence', () => {
    const actions = [
      act({ status: 'completed', confidence: 0.91 }),
      act({ action_id: 'diagnosis', agent_type: 'diagnosis', status: 'completed', confidence: 0.8 }),
      act({ action_id: 'remediation.2', agent_type: 'resolution', kind: 'remediation', step: 2, status: 'failed' }),
      act({ action_id: 'rollback.1', agent_type: 'resolution', kind: 'rollback', step: 1, status: 'in_progress' }),
    ];
    const states = Object.fromEntries(agentStates(inOrder(actions)).map((s) => [s.agent, s]));
    expect(states.detection).toMatchObject({ tone: 'done', confidence: 0.91 });
    expect(states.prediction).toMatchObject({ tone: 'idle', text: 'Standing by' });
    expect(states.resolution).toMatchObject({ tone: 'running', text: 'Rollback of step 1 · rolling back' });
    expect(states.communication!.tone).toBe('idle');
  });

  it('says what a finished phase found, and reads details as words', () => {
    const diagnosis = act({
      action_id: 'diagnosis',
      agent_type: 'diagnosis',
      description: 'Correlating alerts',
      status: 'completed',
      details: { service: 'user-service', region: 'NA-East', product: 'Device Care', root_cause: 'Connection pool exhausted' },
    });
    expect(finding(diagnosis)).toBe('user-service · NA-East · Device Care: “Connection pool exhausted”');
    expect(actionLine(diagnosis)).toBe('Diagnosis · Correlating alerts → user-service · NA-East · Device Care: “Connection pool exhausted”');
    expect(finding({ ...diagnosis, status: 'in_progress' })).toBeNull();
    expect(actionLine(act({ action_id: 'remediation.2', agent_type: 'resolution', kind: 'remediation', step: 2, description: 'Update timeouts' }))).toBe('Resolution · Step 2/5: Update timeouts');
    expect(formatConfidence(0.731, 'prediction')).toBe('73% cascade risk');
    expect(formatConfidence(0.94, 'detection')).toBe('94% confidence');
    expect(detailText({ started: 22, escalation_share: 0.36 })).toBe('started 22, escalation share 0.36');
    expect(detailText([{ check: 'Backup', passed: true }])).toBe('check Backup, passed yes');
  });
});
