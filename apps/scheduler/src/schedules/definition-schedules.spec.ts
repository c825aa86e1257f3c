import type { RegisteredWorkflow, WorkflowDefinition } from '@baton/contracts';

import { definitionSchedules, latestLive } from './definition-schedules';

const NOW = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));

function registered(version: number, triggers: unknown[], deleted = false): RegisteredWorkflow {
  const definition = {
    id: 'nightly',
    version,
    triggers,
    steps: [{ id: 'run', type: 'task', action: 'reports.build' }],
  } as unknown as WorkflowDefinition;
  return {
    definition,
    registeredAt: NOW.toISOString(),
    digest: `d${version}`,
    ...(deleted ? { deleted } : {}),
  };
}

describe('definitionSchedules', () => {
  it('makes one schedule per cron trigger, id wf-<workflowId>-<triggerIndex>, pinned to the version', () => {
    const w = registered(2, [
      { type: 'event', subject: 'events.x' },
      { type: 'cron', expression: '0 */6 * * *', timezone: 'Europe/Berlin', input: { sweep: true } },
      { type: 'cron', expression: '* * * * * *', overlap: 'allow' },
    ]);
    const schedules = definitionSchedules(w, NOW);
    expect(schedules).toEqual([
      {
        id: 'wf-nightly-1',
        workflowId: 'nightly',
        workflowVersion: 2,
        expression: '0 */6 * * *',
        timezone: 'Europe/Berlin',
        input: { sweep: true },
        overlap: 'skip',
        paused: false,
        source: 'definition',
        nextFireAt: new Date(Date.UTC(2026, 5, 1, 16, 0, 0)),
        createdAt: NOW,
      },
      expect.objectContaining({
        id: 'wf-nightly-2',
        timezone: 'UTC',
        overlap: 'allow',
        input: null,
        nextFireAt: new Date(NOW.getTime() + 1000),
      }),
    ]);
  });

  it('leaves out triggers it cannot use, and reports them', () => {
    const invalid: number[] = [];
    const w = registered(1, [
      { type: 'cron', expression: 'nonsense' },
      { type: 'cron', expression: '@daily', timezone: 'Mars/Olympus' },
    ]);
    expect(definitionSchedules(w, NOW, (i) => invalid.push(i))).toEqual([]);
    expect(invalid).toEqual([0, 1]);
  });
});

describe('latestLive', () => {
  it('is the highest version not deleted', () => {
    expect(
      latestLive([registered(1, []), registered(3, [], true), registered(2, [])])?.definition.version,
    ).toBe(2);
    expect(latestLive([registered(1, [], true)])).toBeUndefined();
  });
});
