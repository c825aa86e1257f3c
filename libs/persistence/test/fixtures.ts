import type { HistoryBatch, HistoryEvent } from '@baton/contracts';

/** A HistoryBatch of execution `executionId` at `revision`, with events `seqs`. */
export function batch(
  executionId: string,
  revision: number,
  seqs: number[],
  overrides: Partial<HistoryBatch> = {},
): HistoryBatch {
  const events: HistoryEvent[] = seqs.map((seq) => ({
    seq,
    type: seq === 1 ? 'ExecutionStarted' : 'StepCompleted',
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    ...(seq === 1
      ? {}
      : { stepId: `step-${seq}`, attempt: 1, status: 'COMPLETED' as const, data: { n: seq } }),
  }));
  return {
    protocol: 1,
    executionId,
    workflowId: 'wf-a',
    version: 1,
    revision,
    status: 'RUNNING',
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, revision)).toISOString(),
    input: { orderId: executionId },
    steps: { [`step-${revision}`]: { status: 'COMPLETED', attempt: 1 } },
    events,
    ...overrides,
  };
}
