import { describe, expect, it } from 'vitest';
import { requireOwnership } from '../../worker/signals/ownership-bundled.ts';
import { checkedOwnership, ownerEmailFor, parseOwnership } from '../../worker/signals/ownership.ts';

describe('signal ownership rules', () => {
  it('the bundled file is valid and assigns by entity, first rule first', () => {
    const rules = requireOwnership();
    expect(ownerEmailFor(rules, { entity_type: 'product', entity_id: 'phone', metric_name: 'claim_volume' })).toBe('editor@command-center.local');
    expect(ownerEmailFor(rules, { entity_type: 'region', entity_id: 'EMEA', metric_name: 'csat_avg' })).toBe('admin@command-center.local');
    expect(ownerEmailFor(rules, { entity_type: 'region', entity_id: 'APAC', metric_name: 'csat_avg' })).toBe(rules.default_owner);
  });

  it('names what is wrong with a broken file, and the routes answer config_invalid', () => {
    const broken = [
      ['version: 2\nrules: []\n', 'version'],
      ['version: 1\nrules:\n  - match: {}\n    owner: a@b.co\n', 'must match on something'],
      ['version: 1\nrules:\n  - match: { entity_type: planet }\n    owner: a@b.co\n', 'entity_type'],
      ['version: 1\nrules:\n  - match: { metric: claim_volume }\n    owner: not-an-email\n', 'owner'],
      ['version: 1\ndefault_owner: x\n', 'default_owner'],
      ['version: 1\nrules: [\n', 'not valid YAML'],
      ['version: 1\nversion: 1\n', 'not valid YAML'],
    ] as const;
    for (const [text, problem] of broken) {
      const result = parseOwnership(text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.problems.join('\n')).toContain(problem);
      expect(() => checkedOwnership(text)).toThrow(/signal_ownership\.yaml is invalid/);
    }
  });

  it('emails are compared lower-cased; no rule and no default leaves a signal unassigned', () => {
    const rules = checkedOwnership('version: 1\nrules:\n  - match: { entity_type: team, entity_id: Tier2 }\n    owner: Lead@Example.com\n');
    expect(ownerEmailFor(rules, { entity_type: 'team', entity_id: 'Tier2', metric_name: 'avg_handle_time' })).toBe('lead@example.com');
    expect(ownerEmailFor(rules, { entity_type: 'team', entity_id: 'Tier1', metric_name: 'avg_handle_time' })).toBeNull();
  });
});
