import { type Context, context } from '@opentelemetry/api';

import {
  DEFAULT_MAX_OUTPUT_BYTES,
  type DeadLetterRecord,
  type ErrorInfo,
  Headers,
  PROTOCOL_VERSION,
  Subjects,
  type TaskCancelNotice,
  type TaskHeartbeat,
  type TaskMessage,
  type TaskResult,
} from '@baton/contracts';

import { WorkerErrorType, toErrorInfo } from './error-info';
import { type CachedOutcome, type PublishHeaders, ResultCache } from './result.cache';
import { type TaskDelivery, headerValue } from './task-delivery';
import { TaskAbortReason, TaskAbortedError, isCompleteAsyncError, isTaskAbortedError } from './task.errors';
import { parseTaskMessage } from './task-message.parser';
import { endTaskSpan, resultTraceHeaders, startTaskSpan } from './task.tracing';
import type { WorkerFaults } from './worker.faults';
import { childLogger } from './worker.logger';
import type { TaskContext, TaskHandler, WorkerLogger } from './worker.types';

/**
 * Durable publishing, the other seam of the processor: resolves once JetStream has acknowledged the
 * message (PubAck), rejects otherwise.
 */
export interface TaskTransport {
  publish(subject: string, payload: Uint8Array, msgId: string, headers: PublishHeaders): Promise<void>;
}

/** Settings of a {@link TaskProcessor}. */
export interface TaskProcessorOptions {
  action: string;
  /** Stream the tasks come from (`BATON_TASKS`). */
  stream: string;
  /** Durable consumer name (`task_<action>`). */
  durable: string;
  /** Reported as `workerId` in results. */
  workerId: string;
  /** Ack wait of the consumer; the processor heartbeats every half of it. */
  ackWaitMs: number;
  logger: WorkerLogger;
  cache?: ResultCache;
  /** Largest output (bytes of JSON); default DEFAULT_MAX_OUTPUT_BYTES. */
  maxOutputBytes?: number;
  /** Backoff between attempts to publish a result or dead letter (default 200 ms doubling to 5 s). */
  publishRetry?: { initialMs: number; maxMs: number };
  /** Attempts to publish a dead letter before handing the message back to the broker (default 3). */
  deadLetterAttempts?: number;
  /** Redelivery delay of a message that could not be dead-lettered (default 5000 ms). */
  deadLetterRetryDelayMs?: number;
  /** Least time between two TaskHeartbeats of one task (default 1000 ms). */
  heartbeatIntervalMs?: number;
  /** Clock (epoch ms) for deadlines and heartbeat throttling; default Date.now. */
  now?: () => number;
  /** Crash points for fault-injection tests; default none. */
  faults?: WorkerFaults;
}

type Outcome =
  | { kind: 'output'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'failure'; info: ErrorInfo }
  | { kind: 'async' };

interface RunningTask {
  /** The delivery being processed and any redelivery of the same task received meanwhile. */
  deliveries: TaskDelivery[];
  controller: AbortController;
  settled: Promise<void>;
}

/** Error type of a task stopped because its execution was terminated. */
export const CANCELLED_ERROR_TYPE = 'CANCELLED';
/** Error type of an attempt that passed its deadline (retryable). */
export const TIMEOUT_ERROR_TYPE = 'TIMEOUT';
/** Cancelled task ids remembered for tasks that arrive after their cancel notice. */
const MAX_CANCELLED_REMEMBERED = 10_000;
/** Longest single timer (setTimeout overflows past 2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Largest original payload copied into a dead letter (the record must fit in one NATS message). */
const MAX_DEAD_LETTER_DATA_BYTES = 512 * 1024;
const MAX_HEADER_VALUE_LENGTH = 1024;

/**
 * Processes task deliveries of one action: validates the message (dead-lettering what can never
 * succeed), runs the handler with heartbeats and a span, publishes the TaskResult durably, and only then
 * acks. A redelivered task answered before by this process is re-published from the {@link ResultCache}
 * without running the handler; a redelivery that arrives while the same task runs joins that run.
 */
export class TaskProcessor {
  private readonly running = new Map<string, RunningTask>();
  private readonly pending = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private readonly forceController = new AbortController();
  private readonly cache: ResultCache;
  private readonly maxOutputBytes: number;
  private readonly cancelled = new Map<string, string>();
  private readonly now: () => number;
  private ackWaitMs: number;

  constructor(
    private readonly handler: TaskHandler,
    private readonly transport: TaskTransport,
    private readonly options: TaskProcessorOptions,
  ) {
    this.cache = options.cache ?? new ResultCache();
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.ackWaitMs = options.ackWaitMs;
    this.now = options.now ?? Date.now;
  }

  /** Deliveries being processed (including joined redeliveries and dead-lettering). */
  get activeCount(): number {
    return this.pending.size;
  }

  /** Changes the ack wait used for the heartbeats of tasks started from now on. */
  setAckWait(ackWaitMs: number): void {
    this.ackWaitMs = ackWaitMs;
  }

  /**
   * Processes one delivery. Resolves when it is settled (acked, nak'ed or terminated) or handed back to
   * the broker; never rejects.
   */
  process(delivery: TaskDelivery): Promise<void> {
    const work = this.handleDelivery(delivery).catch((err: unknown) => {
      this.options.logger.error(
        { err, subject: delivery.subject, streamSequence: delivery.streamSequence },
        'unexpected error while processing a task; handing it back to the broker',
      );
      delivery.nak(this.options.deadLetterRetryDelayMs ?? 5000);
    });
    this.pending.add(work);
    void work.finally(() => {
      this.pending.delete(work);
      if (this.pending.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
    return work;
  }

  /** Resolves when no delivery is being processed. */
  whenIdle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Gives up on running work (the drain timeout passed): aborts every running handler's `signal` and
   * stops retrying publications. A handler that then throws, and a result that cannot be published,
   * are handed back to the broker (`-NAK`) for another worker; a handler that still returns in time has
   * its result published once.
   */
  force(reason: string): void {
    if (this.forceController.signal.aborted) return;
    this.forceController.abort(new Error(reason));
    for (const run of this.running.values()) {
      run.controller.abort(new TaskAbortedError(TaskAbortReason.SHUTDOWN, reason));
    }
  }

  /**
   * Applies a cancel notice (the execution was terminated): aborts the named tasks running here with a
   * `cancelled` reason, and remembers the others so that, should they arrive later, they are answered
   * `CANCELLED` without running. Task ids of other actions are remembered harmlessly.
   */
  cancel(notice: Pick<TaskCancelNotice, 'taskIds' | 'reason'>): void {
    const reason = notice.reason || 'the execution was terminated';
    for (const taskId of notice.taskIds) {
      const run = this.running.get(taskId);
      if (run !== undefined) {
        if (!run.controller.signal.aborted) {
          run.controller.abort(new TaskAbortedError(TaskAbortReason.CANCELLED, reason));
        }
        continue;
      }
      this.cancelled.delete(taskId);
      this.cancelled.set(taskId, reason);
      if (this.cancelled.size > MAX_CANCELLED_REMEMBERED) {
        const oldest = this.cancelled.keys().next().value;
        if (oldest !== undefined) this.cancelled.delete(oldest);
      }
    }
  }

  private get forced(): boolean {
    return this.forceController.signal.aborted;
  }

  private async handleDelivery(delivery: TaskDelivery): Promise<void> {
    if (this.forced) {
      delivery.nak();
      return;
    }
    const parsed = parseTaskMessage(delivery.data, this.options.action);
    if (!parsed.ok) {
      await this.deadLetter(delivery, parsed.code, parsed.message);
      return;
    }
    const task = parsed.task;
    const running = this.running.get(task.taskId);
    if (running !== undefined) {
      this.options.logger.info(
        { taskId: task.taskId, deliveryCount: delivery.deliveryCount },
        'task redelivered while it runs here; it will be acked with the running attempt',
      );
      running.deliveries.push(delivery);
      await running.settled;
      return;
    }
    const cached = this.cache.get(task.taskId);
    if (cached !== undefined) {
      await this.answerFromCache(task, delivery, cached);
      return;
    }
    await this.run(task, delivery);
  }

  private async answerFromCache(
    task: TaskMessage,
    delivery: TaskDelivery,
    cached: CachedOutcome,
  ): Promise<void> {
    const log = childLogger(this.options.logger, { taskId: task.taskId, executionId: task.executionId });
    log.info(
      { deliveryCount: delivery.deliveryCount },
      'task redelivered after it was answered; re-publishing its result',
    );
    if (cached.kind === 'async') {
      delivery.ack();
      return;
    }
    const beat = this.heartbeat([delivery]);
    try {
      if (await this.publishWithRetry(cached, log, 'result')) delivery.ack();
      else delivery.nak();
    } finally {
      beat.stop();
    }
  }

  private async run(task: TaskMessage, delivery: TaskDelivery): Promise<void> {
    let settle: () => void = () => undefined;
    const run: RunningTask = {
      deliveries: [delivery],
      controller: new AbortController(),
      settled: new Promise<void>((resolve) => (settle = resolve)),
    };
    this.running.set(task.taskId, run);
    const log = childLogger(this.options.logger, {
      action: task.action,
      taskId: task.taskId,
      executionId: task.executionId,
      stepId: task.stepId,
      attempt: task.attempt,
    });
    const { span, context: spanContext } = startTaskSpan(task, {
      subject: delivery.subject,
      durable: this.options.durable,
      headers: delivery.headers,
      deliveryCount: delivery.deliveryCount,
      bodySize: delivery.data.byteLength,
    });
    const beat = this.heartbeat(run.deliveries);
    const deadline = this.deadlineTimer(task, run.controller);
    const progress = this.progress(task, log, () => deadline.extend());
    const startedAt = new Date().toISOString();
    let spanOutcome: Parameters<typeof endTaskSpan>[1] = { status: 'abandoned' };
    try {
      const ctx: TaskContext = {
        taskId: task.taskId,
        executionId: task.executionId,
        workflowId: task.workflowId,
        workflowVersion: task.workflowVersion,
        stepId: task.stepId,
        attempt: task.attempt,
        ...(task.itemIndex === undefined ? {} : { itemIndex: task.itemIndex }),
        action: task.action,
        idempotencyKey: task.idempotencyKey,
        ...(task.deadline === undefined ? {} : { deadline: new Date(task.deadline) }),
        compensation: task.compensation === true,
        ...(task.compensation === true && task.compensates !== undefined
          ? { compensates: task.compensates }
          : {}),
        deliveryCount: delivery.deliveryCount,
        token: task.token,
        signal: run.controller.signal,
        log,
        heartbeat: (details?: unknown) => {
          beat.beat();
          progress.send(details);
        },
      };
      const early = this.failsBeforeRunning(task);
      if (early === undefined) log.debug({ deliveryCount: delivery.deliveryCount }, 'task started');
      else log.info({ errorType: early.type, error: early.message }, 'task not run');
      let outcome: Outcome =
        early === undefined
          ? await this.invoke(task.input, ctx, spanContext)
          : { kind: 'failure', info: early };
      // The handler's side effect is done; its result is not published, the delivery not acked.
      if (early === undefined) this.options.faults?.hit('after-effect');
      const abortReason: unknown = run.controller.signal.reason;
      if (outcome.kind === 'error' && run.controller.signal.aborted && isAbort(abortReason, 'cancelled')) {
        outcome = {
          kind: 'failure',
          info: { type: CANCELLED_ERROR_TYPE, message: abortReason.message, nonRetryable: true },
        };
      } else if (
        outcome.kind === 'error' &&
        run.controller.signal.aborted &&
        isAbort(abortReason, 'deadline')
      ) {
        outcome = { kind: 'failure', info: { type: TIMEOUT_ERROR_TYPE, message: abortReason.message } };
      }

      if (outcome.kind === 'async') {
        this.cache.set(task.taskId, { kind: 'async' });
        for (const d of run.deliveries) d.ack();
        log.info({}, 'task left to be completed with its token');
        spanOutcome = { status: 'async' };
        return;
      }
      if (outcome.kind === 'error' && run.controller.signal.aborted) {
        for (const d of run.deliveries) d.nak();
        log.warn({ err: outcome.error }, 'task aborted by shutdown; handed back to the broker');
        return;
      }

      const result = this.buildResult(task, outcome, startedAt);
      const entry: CachedOutcome = {
        kind: 'result',
        subject: task.replyTo,
        msgId: `result:${task.taskId}`,
        payload: new TextEncoder().encode(JSON.stringify(result)),
        headers: {
          ...resultTraceHeaders(spanContext, delivery.headers),
          [Headers.EXECUTION_ID]: task.executionId,
          [Headers.WORKFLOW_ID]: task.workflowId,
          [Headers.STEP_ID]: task.stepId,
          [Headers.ATTEMPT]: String(task.attempt),
        },
      };
      this.cache.set(task.taskId, entry);
      if (!(await this.publishWithRetry(entry, log, 'result'))) {
        for (const d of run.deliveries) d.nak();
        log.warn({}, 'result not published before shutdown; task handed back to the broker');
        return;
      }
      for (const d of run.deliveries) d.ack();
      if (result.status === 'completed') {
        log.debug({}, 'task completed');
        spanOutcome = { status: 'completed' };
      } else {
        const error = result.error as ErrorInfo;
        log.info(
          { errorType: error.type, error: error.message, nonRetryable: error.nonRetryable === true },
          'task failed',
        );
        spanOutcome = { status: 'failed', errorType: error.type, errorMessage: error.message };
      }
    } finally {
      beat.stop();
      progress.stop();
      deadline.stop();
      endTaskSpan(span, spanOutcome);
      this.running.delete(task.taskId);
      settle();
    }
  }

  /** Runs the handler inside the task span (so its own spans are children of it), catching what it throws. */
  private async invoke(input: unknown, ctx: TaskContext, spanContext: Context): Promise<Outcome> {
    try {
      const value = await context.with(spanContext, () => this.handler(input, ctx));
      return { kind: 'output', value };
    } catch (error) {
      if (isCompleteAsyncError(error)) return { kind: 'async' };
      return { kind: 'error', error };
    }
  }

  private buildResult(task: TaskMessage, outcome: Outcome, startedAt: string): TaskResult {
    const base = {
      protocol: PROTOCOL_VERSION,
      taskId: task.taskId,
      executionId: task.executionId,
      stepId: task.stepId,
      ...(task.itemIndex === undefined ? {} : { itemIndex: task.itemIndex }),
      attempt: task.attempt,
      workerId: this.options.workerId,
      startedAt,
    };
    const failed = (error: ErrorInfo): TaskResult => ({
      ...base,
      status: 'failed',
      error,
      finishedAt: new Date().toISOString(),
    });
    if (outcome.kind === 'error') return failed(toErrorInfo(outcome.error));
    if (outcome.kind === 'failure') return failed(outcome.info);
    if (outcome.kind === 'async') throw new Error('an asynchronous completion has no result');
    let json: string | undefined;
    try {
      json = JSON.stringify(outcome.value === undefined ? null : outcome.value);
    } catch (err) {
      return failed({
        type: WorkerErrorType.OUTPUT_NOT_SERIALIZABLE,
        message: `output cannot be written as JSON: ${(err as Error).message}`,
        nonRetryable: true,
      });
    }
    if (json === undefined) {
      return failed({
        type: WorkerErrorType.OUTPUT_NOT_SERIALIZABLE,
        message: `output of type ${typeof outcome.value} cannot be written as JSON`,
        nonRetryable: true,
      });
    }
    const size = Buffer.byteLength(json);
    if (size > this.maxOutputBytes) {
      return failed({
        type: WorkerErrorType.OUTPUT_TOO_LARGE,
        message: `output is ${size} bytes of JSON; the limit is ${this.maxOutputBytes}`,
        nonRetryable: true,
      });
    }
    return {
      ...base,
      status: 'completed',
      output: JSON.parse(json) as unknown,
      finishedAt: new Date().toISOString(),
    };
  }

  private async deadLetter(delivery: TaskDelivery, errorCode: string, error: string): Promise<void> {
    const { stream, durable } = this.options;
    const truncated = delivery.data.byteLength > MAX_DEAD_LETTER_DATA_BYTES;
    const data = truncated ? delivery.data.subarray(0, MAX_DEAD_LETTER_DATA_BYTES) : delivery.data;
    const reason = truncated
      ? `${error} (payload truncated to ${MAX_DEAD_LETTER_DATA_BYTES} of ${delivery.data.byteLength} bytes)`
      : error;
    const record: DeadLetterRecord = {
      stream,
      consumer: durable,
      subject: delivery.subject,
      streamSequence: delivery.streamSequence,
      deliveries: delivery.deliveryCount,
      errorCode,
      error: reason,
      deadAt: new Date().toISOString(),
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
      headers: delivery.headers,
      ...(truncated ? { truncated: true } : {}),
    };
    const headers: PublishHeaders = {};
    for (const [name, values] of Object.entries(delivery.headers)) {
      // Nats-* headers steer JetStream (dedupe id, expectations): they stay in the record only.
      if (!name.toLowerCase().startsWith('nats-')) headers[name] = values;
    }
    Object.assign(headers, {
      [Headers.DLQ_STREAM]: stream,
      [Headers.DLQ_CONSUMER]: durable,
      [Headers.DLQ_SUBJECT]: delivery.subject,
      [Headers.DLQ_SEQUENCE]: String(delivery.streamSequence),
      [Headers.DLQ_DELIVERIES]: String(delivery.deliveryCount),
      [Headers.DLQ_ERROR_CODE]: errorCode,
      [Headers.DLQ_ERROR]: oneLine(reason),
    });
    const entry: CachedOutcome = {
      kind: 'result',
      subject: Subjects.deadLetter(stream, durable),
      msgId: `dlq:${stream}:${durable}:${delivery.streamSequence}`,
      payload: new TextEncoder().encode(JSON.stringify(record)),
      headers,
    };
    const log = childLogger(this.options.logger, {
      subject: delivery.subject,
      streamSequence: delivery.streamSequence,
      msgId: headerValue(delivery.headers, Headers.MSG_ID),
    });
    log.error(
      { errorCode, error: reason, deadLetterSubject: entry.subject },
      'malformed task; dead-lettering it',
    );
    if (await this.publishWithRetry(entry, log, 'dead letter', this.options.deadLetterAttempts ?? 3)) {
      delivery.term();
      return;
    }
    const delay = this.options.deadLetterRetryDelayMs ?? 5000;
    log.error(
      { retryInMs: delay },
      'could not dead-letter the malformed task; handing it back to the broker',
    );
    delivery.nak(delay);
  }

  /**
   * Publishes until JetStream acknowledges, with backoff. Gives up (false) after `maxAttempts`, or when
   * the processor is forced to stop.
   */
  private async publishWithRetry(
    entry: Extract<CachedOutcome, { kind: 'result' }>,
    log: WorkerLogger,
    what: string,
    maxAttempts = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    const { initialMs, maxMs } = this.options.publishRetry ?? { initialMs: 200, maxMs: 5000 };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transport.publish(entry.subject, entry.payload, entry.msgId, entry.headers);
        if (attempt > 1) log.info({ subject: entry.subject, attempt }, `${what} published after retrying`);
        return true;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) {
          log.warn({ err, subject: entry.subject, attempt }, `could not publish the ${what}; retrying`);
        }
        if (attempt >= maxAttempts || this.forced) return false;
        await this.sleep(Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 20)));
        if (this.forced) return false;
      }
    }
  }

  /** A failure to report without running the handler: the task was cancelled, or its deadline passed. */
  private failsBeforeRunning(task: TaskMessage): ErrorInfo | undefined {
    const cancelled = this.cancelled.get(task.taskId);
    if (cancelled !== undefined)
      return { type: CANCELLED_ERROR_TYPE, message: cancelled, nonRetryable: true };
    if (task.deadline !== undefined && Date.parse(task.deadline) <= this.now()) {
      return {
        type: TIMEOUT_ERROR_TYPE,
        message: `attempt ${task.attempt} of step '${task.stepId}' reached the worker after its deadline ${task.deadline}`,
      };
    }
    return undefined;
  }

  /**
   * Aborts `controller` with a `deadline` reason when the attempt's deadline passes. `extend()` (called for
   * each heartbeat sent) moves it to now + the attempt's timeout (`deadline - scheduledAt`), as the
   * orchestrator does.
   */
  private deadlineTimer(task: TaskMessage, controller: AbortController): { extend(): void; stop(): void } {
    if (task.deadline === undefined) return { extend: () => undefined, stop: () => undefined };
    let deadlineMs = Date.parse(task.deadline);
    const windowMs = deadlineMs - Date.parse(task.scheduledAt);
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const arm = (): void => {
      clearTimeout(timer);
      if (stopped || controller.signal.aborted) return;
      const remaining = deadlineMs - this.now();
      if (remaining <= 0) {
        controller.abort(
          new TaskAbortedError(
            TaskAbortReason.DEADLINE,
            `attempt ${task.attempt} of step '${task.stepId}' passed its deadline ${new Date(deadlineMs).toISOString()}`,
          ),
        );
        return;
      }
      timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
      timer.unref();
    };
    arm();
    return {
      extend: () => {
        if (!Number.isFinite(windowMs) || windowMs <= 0) return;
        deadlineMs = Math.max(deadlineMs, this.now() + windowMs);
        arm();
      },
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  /**
   * Publishes TaskHeartbeats for `ctx.heartbeat(details)`: at most one per `heartbeatIntervalMs`; a call
   * inside the interval is sent at its end with the latest details. `onSent` runs for each one sent.
   */
  private progress(
    task: TaskMessage,
    log: WorkerLogger,
    onSent: () => void,
  ): { send(details: unknown): void; stop(): void } {
    const intervalMs = this.options.heartbeatIntervalMs ?? 1000;
    let lastSent = Number.NEGATIVE_INFINITY;
    let pending: { details: unknown } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const flush = (): void => {
      timer = undefined;
      if (stopped || pending === undefined) return;
      // A timer may fire a millisecond before the wall clock shows its interval has passed.
      const early = lastSent + intervalMs - this.now();
      if (early > 0) {
        timer = setTimeout(flush, early);
        timer.unref();
        return;
      }
      const { details } = pending;
      pending = undefined;
      lastSent = this.now();
      const heartbeat: TaskHeartbeat = {
        protocol: PROTOCOL_VERSION,
        kind: 'heartbeat',
        taskId: task.taskId,
        executionId: task.executionId,
        stepId: task.stepId,
        attempt: task.attempt,
        at: new Date(lastSent).toISOString(),
        ...(details === undefined ? {} : { details }),
      };
      let subject: string;
      let payload: Uint8Array;
      try {
        subject = Subjects.taskHeartbeat(task.executionId);
        payload = new TextEncoder().encode(JSON.stringify(heartbeat));
      } catch (err) {
        log.warn(
          { err },
          'heartbeat not sent: its details cannot be written as JSON, or the execution id is not a subject token',
        );
        return;
      }
      onSent();
      this.transport
        .publish(subject, payload, `heartbeat:${task.taskId}:${lastSent}`, {
          [Headers.EXECUTION_ID]: task.executionId,
          [Headers.STEP_ID]: task.stepId,
          [Headers.ATTEMPT]: String(task.attempt),
        })
        .catch((err: unknown) => log.warn({ err, subject }, 'heartbeat not published'));
    };
    return {
      send: (details) => {
        if (stopped) return;
        pending = { details };
        const wait = lastSent + intervalMs - this.now();
        if (wait <= 0) {
          clearTimeout(timer);
          flush();
        } else if (timer === undefined) {
          timer = setTimeout(flush, wait);
          timer.unref();
        }
      },
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.forceController.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Sends `+WPI` for `deliveries` every half ack wait, and on demand (`beat()`, coalesced within a
   * quarter of the ack wait, at most a second) until stopped.
   */
  private heartbeat(deliveries: TaskDelivery[]): { beat(): void; stop(): void } {
    const ackWaitMs = this.ackWaitMs;
    const minGapMs = Math.min(1000, Math.floor(ackWaitMs / 4));
    let last = Date.now();
    let stopped = false;
    const beat = (): void => {
      if (stopped) return;
      const now = Date.now();
      if (now - last < minGapMs) return;
      last = now;
      for (const d of deliveries) d.working();
    };
    const timer = setInterval(
      () => {
        last = 0;
        beat();
      },
      Math.max(100, Math.floor(ackWaitMs / 2)),
    );
    timer.unref();
    return {
      beat,
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
  }
}

function isAbort(reason: unknown, kind: TaskAbortReason): reason is TaskAbortedError {
  return isTaskAbortedError(reason) && reason.kind === kind;
}

function oneLine(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  return flat.length > MAX_HEADER_VALUE_LENGTH ? `${flat.slice(0, MAX_HEADER_VALUE_LENGTH - 3)}...` : flat;
}
