import type { WorkflowDefinition } from '@baton/contracts';
import { validateDefinition } from '@baton/workflow';

import { unsupportedFeatures } from './capabilities';

const base = {
  id: 'nightly',
  version: 1,
  steps: [{ id: 'run', type: 'task', action: 'reports.build' }],
};

function definition(extra: Record<string, unknown>): WorkflowDefinition {
  return { ...base, ...extra } as unknown as WorkflowDefinition;
}

describe('unsupportedFeatures', () => {
  it('accepts cron triggers (the scheduler runs them)', () => {
    const def = definition({
      triggers: [
        { type: 'cron', expression: '0 */6 * * *', timezone: 'Europe/Berlin', overlap: 'skip' },
        { type: 'cron', expression: '* * * * * *', input: { sweep: true } },
        { type: 'event', subject: 'events.report.requested' },
      ],
    });
    expect(unsupportedFeatures(def)).toEqual([]);
  });

  it('accepts trigger conditions and refuses the steps it does not execute', () => {
    const def = definition({
      triggers: [
        {
          type: 'event',
          subject: 'events.x',
          condition: { all: [{ fact: 'event', path: '$.n', operator: 'equal', value: 1 }] },
        },
      ],
      steps: [{ id: 'fan', type: 'parallel', action: 'w.pack' }],
    });
    expect(unsupportedFeatures(def).map((p) => [p.path, p.rule])).toEqual([
      ['/steps/0/type', 'unsupportedStepType'],
    ]);
  });
});

describe('cron triggers at registration', () => {
  function problems(trigger: Record<string, unknown>): string[] {
    const result = validateDefinition({ ...base, triggers: [trigger] });
    return result.ok ? [] : result.errors.map((e) => e.path);
  }

  it('names a bad expression at /triggers/<i>/expression and a bad zone at /triggers/<i>/timezone', () => {
    expect(problems({ type: 'cron', expression: '61 * * * *' })).toContain('/triggers/0/expression');
    expect(problems({ type: 'cron', expression: '@hourly', timezone: 'Mars/Olympus' })).toContain(
      '/triggers/0/timezone',
    );
    expect(problems({ type: 'cron', expression: '*/5 * * * * *', timezone: 'UTC' })).toEqual([]);
  });
});
