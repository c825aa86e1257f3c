/**
 * Errors a handler throws to steer what the SDK reports. They are recognised by their fields, never by
 * `instanceof`, so copies of the SDK loaded twice (or errors built by other code) behave the same.
 */

/**
 * Fails the task without retry (`nonRetryable: true` in the result): the orchestrator does not try this
 * step again, whatever its retry policy, and runs the failure path (compensation) right away.
 *
 * ```ts
 * throw new NonRetryableError('CardDeclined', 'card declined', { declineCode: 'insufficient_funds' });
 * ```
 */
export class NonRetryableError extends Error {
  /** Error type reported in the result (`error.type`); retry policies match on it. */
  readonly type: string;
  /** Marker read by the SDK. */
  readonly nonRetryable = true as const;
  /** JSON-serialisable details reported as `error.details`. */
  readonly details?: unknown;

  constructor(type: string, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NonRetryableError';
    this.type = type;
    if (details !== undefined) this.details = details;
  }
}

/** Whether `value` asks for a non-retryable failure (a {@link NonRetryableError} from any copy of the SDK). */
export function isNonRetryableError(value: unknown): value is NonRetryableError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { nonRetryable?: unknown }).nonRetryable === true &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

/**
 * Ends the handler without reporting a result: the SDK acks the task and the step stays running until
 * someone completes it over HTTP with the task's token (`POST /v1/tasks/:token/complete {output}` or
 * `/fail {error}` on the orchestrator) or its deadline passes. Use it to hand a task to a human or an
 * external system:
 *
 * ```ts
 * worker.handle('review.manual', async (input, ctx) => {
 *   await tickets.open({ ...input, completeUrl: `${BATON}/v1/tasks/${ctx.token}/complete` });
 *   throw new CompleteAsyncError();
 * });
 * ```
 */
export class CompleteAsyncError extends Error {
  /** Marker read by the SDK. */
  readonly completeAsync = true as const;

  constructor(message = 'the task will be completed asynchronously with its token') {
    super(message);
    this.name = 'CompleteAsyncError';
  }
}

/** Whether `value` is a {@link CompleteAsyncError} (from any copy of the SDK). */
export function isCompleteAsyncError(value: unknown): value is CompleteAsyncError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { completeAsync?: unknown }).completeAsync === true
  );
}

/** Why a task's `ctx.signal` was aborted. */
export const TaskAbortReason = {
  /** The execution was terminated (a TaskCancelNotice named this task). Reported as `CANCELLED`. */
  CANCELLED: 'cancelled',
  /** The attempt's deadline passed (heartbeats move it). Reported as a retryable `TIMEOUT`. */
  DEADLINE: 'deadline',
  /** The worker is closing and the drain timeout passed: the task goes back to the broker. */
  SHUTDOWN: 'shutdown',
} as const;
export type TaskAbortReason = (typeof TaskAbortReason)[keyof typeof TaskAbortReason];

/**
 * The `reason` of an aborted `ctx.signal`: `ctx.signal.reason.kind` tells why. A handler that stops because
 * of it may simply rethrow it (or let its own AbortError escape): the SDK reports the right outcome.
 */
export class TaskAbortedError extends Error {
  /** Marker read by the SDK. */
  readonly taskAborted = true as const;

  constructor(
    readonly kind: TaskAbortReason,
    message: string,
  ) {
    super(message);
    this.name = 'TaskAbortedError';
  }
}

/** Whether `value` is a {@link TaskAbortedError} (from any copy of the SDK). */
export function isTaskAbortedError(value: unknown): value is TaskAbortedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { taskAborted?: unknown }).taskAborted === true &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}
