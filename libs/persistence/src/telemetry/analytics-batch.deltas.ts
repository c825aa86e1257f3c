import { HistoryEventType, TERMINAL_EXECUTION_STATUSES, validationError } from '@baton/contracts';
import type { ExecutionStatus, HistoryBatch, HistoryEvent } from '@baton/contracts';

import { minuteOf } from './analytics-window';
import { durationBucket } from './duration-histogram';

/** `step_id` of the rows about whole executions (step rows carry the step id). */
export const EXECUTION_ROW = '';

/** Counter increments of one `(workflow, step, minute)` row. */
export interface StatsDelta {
  workflowId: string;
  /** {@link EXECUTION_ROW} for the execution, else the step id. */
  stepId: string;
  /** Start of the minute (epoch ms). */
  minute: number;
  started: number;
  completed: number;
  failed: number;
  compensated: number;
  terminated: number;
  /** Sum of the attempt numbers of finished steps (average attempts = attempts / finished). */
  attempts: number;
}

/** One duration observation of a `(workflow, step, minute)` row. */
export interface DurationDelta {
  workflowId: string;
  stepId: string;
  minute: number;
  bucket: number;
}

/** What one history batch adds to the analytics; empty when it holds nothing counted. */
export interface BatchDeltas {
  executionId: string;
  revision: number;
  stats: StatsDelta[];
  durations: DurationDelta[];
}

const COUNTER_OF_STATUS: Partial<
  Record<ExecutionStatus, 'completed' | 'failed' | 'compensated' | 'terminated'>
> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  COMPENSATED: 'compensated',
  TERMINATED: 'terminated',
};

function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function emptyDelta(workflowId: string, stepId: string, minute: number): StatsDelta {
  return {
    workflowId,
    stepId,
    minute,
    started: 0,
    completed: 0,
    failed: 0,
    compensated: 0,
    terminated: 0,
    attempts: 0,
  };
}

/** Checks the fields the analytics read; throws a non-retryable VALIDATION_FAILED naming the bad ones. */
function checkBatch(raw: unknown): HistoryBatch {
  const b = raw as Partial<HistoryBatch> | null;
  const bad: { path: string; message: string; rule: string }[] = [];
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw validationError('history batch must be a JSON object', [
      { path: '', message: 'must be an object', rule: 'type' },
    ]);
  }
  if (typeof b.executionId !== 'string' || b.executionId.length === 0)
    bad.push({ path: '/executionId', message: 'must be a non-empty string', rule: 'type' });
  if (typeof b.workflowId !== 'string' || b.workflowId.length === 0)
    bad.push({ path: '/workflowId', message: 'must be a non-empty string', rule: 'type' });
  if (!Number.isSafeInteger(b.revision) || (b.revision as number) < 0)
    bad.push({ path: '/revision', message: 'must be a non-negative integer', rule: 'type' });
  if (!Array.isArray(b.events)) bad.push({ path: '/events', message: 'must be an array', rule: 'type' });
  if (bad.length > 0)
    throw validationError(`history batch is invalid: ${bad.map((d) => d.path).join(', ')}`, bad);
  return b as HistoryBatch;
}

/**
 * The analytics increments of one `HistoryBatch`:
 * - execution rows: `ExecutionStarted` counts `started` in its minute; an execution event carrying a
 *   terminal status (`ExecutionCompleted`, `ExecutionFailed`) counts that status in its minute, with the
 *   duration `finishedAt - startedAt` of the batch;
 * - step rows: `StepCompleted` / `StepFailed` count `completed` / `failed` and the attempt number, with the
 *   duration `finishedAt - startedAt` of the step's summary in the batch (when both are known).
 * Throws a non-retryable VALIDATION_FAILED when the batch lacks the fields read.
 */
export function toBatchDeltas(raw: unknown): BatchDeltas {
  const batch = checkBatch(raw);
  const stats = new Map<string, StatsDelta>();
  const durations: DurationDelta[] = [];
  const row = (stepId: string, at: number): StatsDelta => {
    const minute = minuteOf(at).getTime();
    const key = `${stepId}\u0000${minute}`;
    let delta = stats.get(key);
    if (delta === undefined) {
      delta = emptyDelta(batch.workflowId, stepId, minute);
      stats.set(key, delta);
    }
    return delta;
  };
  for (const event of batch.events as (HistoryEvent | null)[]) {
    if (typeof event !== 'object' || event === null) continue;
    const at = timeOf(event.at) ?? timeOf(batch.updatedAt);
    if (at === undefined) continue;
    if (event.type === HistoryEventType.EXECUTION_STARTED) {
      row(EXECUTION_ROW, at).started++;
      continue;
    }
    if (typeof event.type === 'string' && event.type.startsWith('Execution')) {
      const status = (event.status ?? batch.status) as ExecutionStatus;
      const counter = TERMINAL_EXECUTION_STATUSES.includes(status) ? COUNTER_OF_STATUS[status] : undefined;
      if (counter === undefined) continue;
      row(EXECUTION_ROW, at)[counter]++;
      const started = timeOf(batch.startedAt);
      const finished = timeOf(batch.finishedAt) ?? at;
      if (started !== undefined) {
        durations.push({
          workflowId: batch.workflowId,
          stepId: EXECUTION_ROW,
          minute: minuteOf(at).getTime(),
          bucket: durationBucket(finished - started),
        });
      }
      continue;
    }
    const failed = event.type === HistoryEventType.STEP_FAILED;
    if (!failed && event.type !== HistoryEventType.STEP_COMPLETED) continue;
    if (typeof event.stepId !== 'string' || event.stepId.length === 0) continue;
    const delta = row(event.stepId, at);
    if (failed) delta.failed++;
    else delta.completed++;
    delta.attempts +=
      Number.isSafeInteger(event.attempt) && (event.attempt as number) > 0 ? (event.attempt as number) : 1;
    const summary = (batch.steps as Record<string, unknown> | undefined)?.[event.stepId] as
      { startedAt?: unknown; scheduledAt?: unknown; finishedAt?: unknown } | undefined;
    const stepStarted = timeOf(summary?.startedAt) ?? timeOf(summary?.scheduledAt);
    const stepFinished = timeOf(summary?.finishedAt);
    if (stepStarted !== undefined && stepFinished !== undefined) {
      durations.push({
        workflowId: batch.workflowId,
        stepId: event.stepId,
        minute: minuteOf(at).getTime(),
        bucket: durationBucket(stepFinished - stepStarted),
      });
    }
  }
  return { executionId: batch.executionId, revision: batch.revision, stats: [...stats.values()], durations };
}
