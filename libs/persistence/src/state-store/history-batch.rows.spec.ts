import { toHistoryBatchRows } from './history-batch.rows';

const valid = {
  protocol: 1,
  executionId: 'e-1',
  workflowId: 'wf',
  version: 2,
  revision: 3,
  status: 'RUNNING',
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  input: { a: 1 },
  steps: { s: { status: 'RUNNING', attempt: 1 } },
  events: [
    {
      seq: 4,
      type: 'StepScheduled',
      at: '2026-01-01T00:00:01.000Z',
      stepId: 's',
      attempt: 1,
      status: 'SCHEDULED',
    },
    { seq: 5, type: 'TaskDispatched', at: '2026-01-01T00:00:01.000+02:00', data: { taskId: 't' } },
  ],
};

describe('toHistoryBatchRows', () => {
  it('maps a batch to rows', () => {
    const rows = toHistoryBatchRows(valid);
    expect(rows.execution).toEqual({
      id: 'e-1',
      workflow_id: 'wf',
      version: 2,
      status: 'RUNNING',
      input: { a: 1 },
      output: undefined,
      error: undefined,
      steps: valid.steps,
      revision: 3,
      started_at: valid.startedAt,
      updated_at: valid.updatedAt,
      finished_at: undefined,
    });
    expect(rows.events).toEqual([
      {
        execution_id: 'e-1',
        seq: 4,
        type: 'StepScheduled',
        at: valid.events[0].at,
        step_id: 's',
        attempt: 1,
        item_index: undefined,
        status: 'SCHEDULED',
        data: undefined,
      },
      {
        execution_id: 'e-1',
        seq: 5,
        type: 'TaskDispatched',
        at: valid.events[1].at,
        step_id: undefined,
        attempt: undefined,
        item_index: undefined,
        status: undefined,
        data: { taskId: 't' },
      },
    ]);
  });

  it('accepts a batch without events', () => {
    expect(toHistoryBatchRows({ ...valid, events: undefined }).events).toEqual([]);
  });

  it('lists every problem, with paths', () => {
    expect(() =>
      toHistoryBatchRows({
        ...valid,
        revision: 1.5,
        startedAt: 'yesterday',
        steps: [],
        events: [{ seq: 'x', type: '', at: '2026-01-01' }, 'nope'],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        retryable: false,
        message: 'history batch of execution e-1 is invalid',
        details: [
          expect.objectContaining({ path: '/revision' }),
          expect.objectContaining({ path: '/startedAt' }),
          expect.objectContaining({ path: '/steps' }),
          expect.objectContaining({ path: '/events/0/seq' }),
          expect.objectContaining({ path: '/events/0/type' }),
          expect.objectContaining({ path: '/events/0/at' }),
          expect.objectContaining({ path: '/events/1' }),
        ],
      }),
    );
  });

  it('rejects non-objects', () => {
    expect(() => toHistoryBatchRows(null)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => toHistoryBatchRows([valid])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
