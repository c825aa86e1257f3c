import { decisionOutput } from './decisions.handler';

describe('decisionOutput', () => {
  const decision = {
    outcome: 'review',
    rules: [
      { id: 'high', version: 3, priority: 10, satisfied: true, event: { type: 'review' } },
      { id: 'mid', version: 1, priority: 5, satisfied: false, event: { type: 'reject' } },
      { id: 'low', version: 2, priority: 1, satisfied: true, event: { type: 'approve', params: { q: 1 } } },
    ],
  };

  it('lists the rules that fired, in priority order, with their versions, and counts the rules evaluated', () => {
    expect(decisionOutput(decision, '2026-12-07T01:00:00.000Z')).toEqual({
      outcome: 'review',
      rules: [
        { id: 'high', version: 3, priority: 10, event: { type: 'review' } },
        { id: 'low', version: 2, priority: 1, event: { type: 'approve', params: { q: 1 } } },
      ],
      evaluated: 3,
      rulesAsOf: '2026-12-07T01:00:00.000Z',
    });
  });

  it('has no rulesAsOf for a `rules: latest` request, and no rules when none fired', () => {
    const none = { outcome: 'default', rules: decision.rules.map((r) => ({ ...r, satisfied: false })) };
    expect(decisionOutput(none, undefined)).toEqual({ outcome: 'default', rules: [], evaluated: 3 });
  });
});
