import type { HistoryBatch } from '@baton/contracts';

import { EXECUTION_ROW, toBatchDeltas } from './analytics-batch.deltas';
import { durationBucket } from './duration-histogram';

const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
const iso = (ms: number): string => new Date(T0 + ms).toISOString();

function batch(overrides: Partial<HistoryBatch>): HistoryBatch {
  return {
    protocol: 1,
    executionId: 'e-1',
    workflowId: 'wf',
    version: 1,
    revision: 1,
    status: 'RUNNING',
    startedAt: iso(0),
    updatedAt: iso(0),
    steps: {},
    events: [],
    ...overrides,
  };
}

describe('toBatchDeltas', () => {
  it('counts a start in the minute of its event', () => {
    const d = toBatchDeltas(batch({ events: [{ seq: 1, type: 'ExecutionStarted', at: iso(30_000) }] }));
    expect(d.stats).toEqual([
      expect.objectContaining({
        workflowId: 'wf',
        stepId: EXECUTION_ROW,
        minute: T0,
        started: 1,
        completed: 0,
      }),
    ]);
    expect(d.durations).toEqual([]);
  });

  it('counts finished steps with attempts and durations from the step summaries', () => {
    const d = toBatchDeltas(
      batch({
        revision: 4,
        steps: {
          a: { status: 'COMPLETED', attempt: 2, startedAt: iso(1_000), finishedAt: iso(1_250) },
          b: { status: 'FAILED', attempt: 3, startedAt: iso(2_000), finishedAt: iso(62_000) },
        },
        events: [
          { seq: 5, type: 'TaskCompleted', at: iso(1_250), stepId: 'a' },
          { seq: 6, type: 'StepCompleted', at: iso(1_250), stepId: 'a', attempt: 2, status: 'COMPLETED' },
          { seq: 7, type: 'StepFailed', at: iso(62_000), stepId: 'b', attempt: 3, status: 'FAILED' },
        ],
      }),
    );
    expect(d).toMatchObject({ executionId: 'e-1', revision: 4 });
    expect(d.stats).toEqual([
      expect.objectContaining({ stepId: 'a', minute: T0, completed: 1, failed: 0, attempts: 2 }),
      expect.objectContaining({ stepId: 'b', minute: T0 + 60_000, completed: 0, failed: 1, attempts: 3 }),
    ]);
    expect(d.durations).toEqual([
      { workflowId: 'wf', stepId: 'a', minute: T0, bucket: durationBucket(250) },
      { workflowId: 'wf', stepId: 'b', minute: T0 + 60_000, bucket: durationBucket(60_000) },
    ]);
  });

  it('counts a terminal execution event by its status with the execution duration', () => {
    const d = toBatchDeltas(
      batch({
        status: 'COMPENSATED',
        finishedAt: iso(5_000),
        events: [{ seq: 9, type: 'ExecutionFailed', at: iso(5_000), status: 'COMPENSATED' }],
      }),
    );
    expect(d.stats).toEqual([expect.objectContaining({ stepId: EXECUTION_ROW, compensated: 1, failed: 0 })]);
    expect(d.durations).toEqual([
      { workflowId: 'wf', stepId: EXECUTION_ROW, minute: T0, bucket: durationBucket(5_000) },
    ]);
  });

  it('yields nothing for batches without counted events', () => {
    const d = toBatchDeltas(batch({ events: [{ seq: 2, type: 'TaskDispatched', at: iso(1) }] }));
    expect(d.stats).toEqual([]);
    expect(d.durations).toEqual([]);
  });

  it('rejects a batch without the fields it reads, non-retryably', () => {
    expect(() => toBatchDeltas({ executionId: 'e', revision: 'x', events: {} })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', retryable: false }),
    );
    expect(() => toBatchDeltas(null)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
