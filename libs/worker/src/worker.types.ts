/**
 * Public types of the worker SDK: options, the handler signature and the context a handler receives.
 */

/**
 * Structured logger the SDK writes to. Compatible with pino (`logger.info({ taskId }, 'done')`); any object
 * with these four methods works. When `child` is present, each task gets a child logger bound to its ids.
 */
export interface WorkerLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  child?(bindings: Record<string, unknown>): WorkerLogger;
}

/** Options of {@link Worker.connect}. */
export interface WorkerOptions {
  /**
   * NATS server URL(s): an array, or one string of comma-separated URLs (the form of `NATS_URL`).
   * Default `nats://127.0.0.1:4222`.
   */
  servers?: string | string[];
  /** Name of this worker process, reported as `workerId` in results and as the NATS connection name. */
  name?: string;
  /** NATS user (with `password`). */
  user?: string;
  /** NATS password (with `user`). */
  password?: string;
  /** Path of a NATS `.creds` file (JWT + NKey seed). */
  credsFile?: string;
  /** Handlers of one action running at once in this process (default 8); `handle()` can override it. */
  concurrency?: number;
  /**
   * Ack wait of the durable consumers this worker creates (default 30000 ms, at least 1000). An existing
   * consumer keeps its own ack wait; the SDK heartbeats at half of the smaller of the two.
   */
  ackWaitMs?: number;
  /** How long `close()` lets running handlers finish before aborting their `signal` (default 30000 ms). */
  drainTimeoutMs?: number;
  /** Where the SDK logs (default: JSON lines on stdout, level info). */
  logger?: WorkerLogger;
}

/** Options of {@link Worker.handle}. */
export interface HandleOptions {
  /** Handlers of this action running at once in this process (default: the worker's `concurrency`). */
  concurrency?: number;
}

/** What a handler receives besides the task's input. */
export interface TaskContext {
  /** Id of this attempt: `<executionId>.<stepId>.<attempt>` (with `.<itemIndex>` for parallel items). */
  readonly taskId: string;
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly stepId: string;
  /** Attempt number of the step, from 1. */
  readonly attempt: number;
  /** Index of the item when the step is a parallel fan-out. */
  readonly itemIndex?: number;
  /** The action this task is for (`payments.charge`). */
  readonly action: string;
  /**
   * Stable across the attempts of one step (and item): pass it to downstream systems (payment provider
   * idempotency keys, unique constraints) so that an effect happens once even when a task runs twice.
   */
  readonly idempotencyKey: string;
  /** Deadline of this attempt, when the step has `timeoutSeconds`; the orchestrator ignores later results. */
  readonly deadline?: Date;
  /** True when this task runs a step's compensation. */
  readonly compensation: boolean;
  /** For a compensation: the compensated step's id, input and output (what to undo). */
  readonly compensates?: { readonly stepId: string; readonly input: unknown; readonly output: unknown };
  /** How many times the broker has delivered this task message (1 on the first delivery). */
  readonly deliveryCount: number;
  /**
   * Opaque token for completing this task over HTTP (`POST /v1/tasks/:token/complete|fail` on the
   * orchestrator); see {@link CompleteAsyncError}.
   */
  readonly token: string;
  /**
   * Aborted when this task should stop; `signal.reason` is a `TaskAbortedError` whose `kind` says why:
   * - `cancelled`: the execution was terminated (reported as a non-retryable `CANCELLED` failure);
   * - `deadline`: the attempt's deadline passed (reported as a retryable `TIMEOUT`);
   * - `shutdown`: the worker is closing and the drain timeout passed (the task goes back to the broker).
   * Pass it to fetch, timers and other cancellable work.
   */
  readonly signal: AbortSignal;
  /** Logger bound to this task's ids. */
  readonly log: WorkerLogger;
  /**
   * Reports progress on a long attempt: resets the broker's ack wait (`+WPI`) and publishes a TaskHeartbeat
   * (with `details`, any JSON value) to the orchestrator, which moves the attempt's deadline to now +
   * `timeoutSeconds` (the SDK moves its local deadline the same way). Heartbeats are sent at most once a
   * second per task: calls in between are coalesced into one, sent with the latest details. Never throws;
   * a heartbeat that cannot be published is logged.
   */
  heartbeat(details?: unknown): void;
}

/**
 * Runs one task: receives the task's input, returns its output (any JSON value; `undefined` reports
 * `null`). Throwing fails the attempt: see {@link NonRetryableError} for failures that must not be retried.
 */
export type TaskHandler<I = unknown, O = unknown> = (input: I, ctx: TaskContext) => O | Promise<O>;
