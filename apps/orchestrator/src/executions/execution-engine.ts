import { randomUUID } from 'node:crypto';

import {
  BatonError,
  ErrorCode,
  ExecutionStatus,
  HistoryEventType,
  PROTOCOL_VERSION,
  StepStatus,
  StepType,
  Subjects,
  isBatonError,
  isFinishedStepStatus,
  isTerminalExecutionStatus,
  isValidSubjectPattern,
} from '@baton/contracts';
import type {
  ErrorInfo,
  ExecutionFinishedEvent,
  HistoryBatch,
  HistoryEvent,
  HistoryEventType as HistoryEventTypeT,
  StepDefinition,
  StepSummary,
  TaskMessage,
  TaskResult,
  WorkflowDefinition,
} from '@baton/contracts';
import { evaluateDag } from '@baton/workflow';
import type { ExpressionBindings } from '@baton/workflow';

import type { ExecutionRecord, OutboxEntry, StepRecord } from './execution.model';

/** The JSON of each record the engine produced, computed once and reused by the store. */
const serialized = new WeakMap<ExecutionRecord, string>();

/** The JSON text of a record (cached for records produced by the engine). */
export function serializeRecord(record: ExecutionRecord): string {
  return serialized.get(record) ?? JSON.stringify(record);
}

/** How many stale results an execution remembers, so a redelivered stale result is recorded once. */
const MAX_IGNORED_REMEMBERED = 32;

/** What the engine needs from expression evaluation (the workflow lib's ExpressionEvaluator). */
export interface TemplateEvaluator {
  evaluateTemplate(template: unknown, bindings: ExpressionBindings, where: string): Promise<unknown>;
}

export interface EngineOptions {
  evaluator: TemplateEvaluator;
  now?: () => Date;
  maxOutputBytes: number;
  maxStateBytes: number;
  nonce?: () => string;
}

export interface StartParams {
  executionId: string;
  input: unknown;
  cause: string;
  trace?: Record<string, string>;
  /** The execution could not even start (its trigger's input failed): it is recorded as FAILED. */
  error?: ErrorInfo;
}

/**
 * The execution state machine: pure transitions from (definition, record, message) to a new record whose
 * `outbox` holds every message to publish. No I/O: the runner persists the record (compare-and-set) and
 * then publishes the outbox with the stable message ids computed here.
 */
export class ExecutionEngine {
  private readonly now: () => Date;
  private readonly nonce: () => string;

  constructor(private readonly options: EngineOptions) {
    this.now = options.now ?? (() => new Date());
    this.nonce = options.nonce ?? (() => randomUUID().replace(/-/g, ''));
  }

  /** A new execution: record with revision 1, first steps scheduled. */
  async start(def: WorkflowDefinition, params: StartParams): Promise<ExecutionRecord> {
    const at = this.now().toISOString();
    const steps: Record<string, StepRecord> = {};
    for (const step of def.steps) steps[step.id] = { status: StepStatus.PENDING, attempt: 0 };
    const record: ExecutionRecord = {
      schema: 1,
      id: params.executionId,
      workflowId: def.id,
      version: def.version,
      status: ExecutionStatus.RUNNING,
      input: params.input,
      cause: params.cause,
      startedAt: at,
      updatedAt: at,
      revision: 0,
      seq: 0,
      steps,
      outbox: [],
      ...(params.trace && Object.keys(params.trace).length > 0 ? { trace: params.trace } : {}),
    };
    const draft = new Draft(record, at, this.nonce);
    draft.event(HistoryEventType.EXECUTION_STARTED, { data: { input: params.input, cause: params.cause } });
    if (params.error) this.failExecution(draft, undefined, params.error);
    else await this.advance(def, draft);
    return this.finish(draft);
  }

  /**
   * Applies a task result. Returns `null` when the result was already applied (a redelivery): nothing
   * changes. A result for another attempt, or for a finished execution, is recorded as stale and ignored.
   */
  async applyResult(
    def: WorkflowDefinition,
    previous: ExecutionRecord,
    result: TaskResult,
  ): Promise<ExecutionRecord | null> {
    const step = previous.steps[result.stepId];
    const at = this.now().toISOString();
    if (step && step.taskId === result.taskId && isFinishedStepStatus(step.status)) return null;
    const draft = new Draft(previous, at, this.nonce);
    const current = draft.record.steps[result.stepId];
    const live =
      current !== undefined &&
      !isTerminalExecutionStatus(draft.record.status) &&
      (current.status === StepStatus.SCHEDULED || current.status === StepStatus.RUNNING) &&
      current.taskId === result.taskId;
    if (!live) {
      const key = `${result.taskId}:${result.status}`;
      if (previous.ignored?.includes(key)) return null;
      draft.record.ignored = [...(previous.ignored ?? []), key].slice(-MAX_IGNORED_REMEMBERED);
      draft.event(HistoryEventType.STALE_RESULT_IGNORED, {
        stepId: result.stepId,
        attempt: result.attempt,
        data: {
          taskId: result.taskId,
          status: result.status,
          reason: current === undefined ? 'unknown step' : staleReason(draft.record, current, result),
        },
      });
      return this.finish(draft);
    }
    const stepDef = def.steps.find((s) => s.id === result.stepId) as StepDefinition;
    if (result.status === 'completed') {
      const size = jsonSize(result.output);
      if (size > this.options.maxOutputBytes) {
        this.failStep(draft, stepDef, {
          type: 'OUTPUT_TOO_LARGE',
          message: `step '${stepDef.id}' output is ${size} bytes; the limit is ${this.options.maxOutputBytes}`,
          nonRetryable: true,
        });
        this.failExecution(draft, stepDef.id, current.error as ErrorInfo);
        return this.finish(draft);
      }
      current.status = StepStatus.COMPLETED;
      current.output = result.output;
      current.finishedAt = at;
      delete current.error;
      draft.event(HistoryEventType.STEP_COMPLETED, {
        stepId: stepDef.id,
        attempt: current.attempt,
        status: StepStatus.COMPLETED,
        data: { output: result.output, workerId: result.workerId },
      });
      await this.advance(def, draft);
      return this.finish(draft);
    }
    const error: ErrorInfo = {
      type: result.error?.type ?? ErrorCode.TASK_FAILED,
      message: result.error?.message ?? 'the worker reported a failure without an error',
      ...(result.error?.nonRetryable ? { nonRetryable: true } : {}),
      ...(result.error?.details !== undefined ? { details: result.error.details } : {}),
    };
    this.failStep(draft, stepDef, error, result.workerId);
    this.failExecution(draft, stepDef.id, error);
    return this.finish(draft);
  }

  /** Steps become ready, are skipped, scheduled or (emit) completed until nothing changes. */
  private async advance(def: WorkflowDefinition, draft: Draft): Promise<void> {
    const record = draft.record;
    for (let guard = 0; guard <= def.steps.length + 1; guard++) {
      if (isTerminalExecutionStatus(record.status)) return;
      const { ready, skip } = evaluateDag(def, record.steps, decisionsOf(def, record));
      for (const id of skip) {
        const step = record.steps[id];
        if (step.status !== StepStatus.PENDING) continue;
        step.status = StepStatus.SKIPPED;
        step.finishedAt = draft.at;
        draft.event(HistoryEventType.STEP_SKIPPED, { stepId: id, status: StepStatus.SKIPPED });
      }
      let completedSynchronously = skip.length > 0;
      for (const id of ready) {
        const stepDef = def.steps.find((s) => s.id === id) as StepDefinition;
        const outcome = await this.schedule(def, draft, stepDef);
        if (outcome === 'failed') return;
        if (outcome === 'completed') completedSynchronously = true;
      }
      if (!completedSynchronously) break;
    }
    if (def.steps.every((s) => isFinishedStepStatus(record.steps[s.id].status))) {
      await this.completeExecution(def, draft);
    }
  }

  private async schedule(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
  ): Promise<'scheduled' | 'completed' | 'failed'> {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    let parameters: unknown;
    try {
      parameters = await this.options.evaluator.evaluateTemplate(
        stepDef.parameters ?? {},
        bindingsOf(record),
        `step '${stepDef.id}' parameters`,
      );
    } catch (err) {
      const error = errorInfoOf(err, ErrorCode.EXPRESSION_FAILED);
      step.attempt = Math.max(step.attempt, 1);
      this.failStep(draft, stepDef, error);
      this.failExecution(draft, stepDef.id, error);
      return 'failed';
    }
    switch (stepDef.type) {
      case StepType.TASK:
        this.dispatchTask(draft, stepDef, parameters);
        return 'scheduled';
      case StepType.DECISION:
        this.dispatchTask(draft, stepDef, parameters, Subjects.decision(stepDef.action as string));
        return 'scheduled';
      case StepType.EMIT:
        return this.emit(draft, stepDef, parameters);
      default: {
        const error: ErrorInfo = {
          type: ErrorCode.UNSUPPORTED_STEP,
          message: `step '${stepDef.id}' has type '${stepDef.type}', which this orchestrator does not execute`,
          nonRetryable: true,
        };
        step.attempt = 1;
        this.failStep(draft, stepDef, error);
        this.failExecution(draft, stepDef.id, error);
        return 'failed';
      }
    }
  }

  /**
   * Publishes the current attempt of a step: a task for workers on `baton.tasks.<action>`, or (decision
   * steps) a decision request for the rule-engine on `baton.decisions.<category>`, answered the same way.
   */
  private dispatchTask(draft: Draft, stepDef: StepDefinition, input: unknown, subject?: string): void {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const attempt = step.attempt + 1;
    const taskId = `${record.id}.${stepDef.id}.${attempt}`;
    const nonce = draft.nonce();
    step.status = StepStatus.SCHEDULED;
    step.attempt = attempt;
    step.scheduledAt = draft.at;
    step.input = input;
    step.taskId = taskId;
    step.nonce = nonce;
    const action = stepDef.action as string;
    const task: TaskMessage = {
      protocol: PROTOCOL_VERSION,
      taskId,
      executionId: record.id,
      workflowId: record.workflowId,
      workflowVersion: record.version,
      stepId: stepDef.id,
      attempt,
      action,
      input,
      idempotencyKey: `${record.id}:${stepDef.id}`,
      replyTo: Subjects.result(record.id),
      token: encodeTaskToken({ executionId: record.id, stepId: stepDef.id, attempt, nonce }),
      scheduledAt: draft.at,
      ...(stepDef.timeoutSeconds
        ? { deadline: new Date(Date.parse(draft.at) + stepDef.timeoutSeconds * 1000).toISOString() }
        : {}),
    };
    draft.publish(subject ?? Subjects.task(action), `task:${taskId}`, task, {
      'Baton-Execution-Id': record.id,
      'Baton-Workflow-Id': record.workflowId,
      'Baton-Step-Id': stepDef.id,
      'Baton-Attempt': String(attempt),
    });
    draft.event(HistoryEventType.STEP_SCHEDULED, {
      stepId: stepDef.id,
      attempt,
      status: StepStatus.SCHEDULED,
      data: { action, taskId, input },
    });
  }

  private emit(draft: Draft, stepDef: StepDefinition, parameters: unknown): 'completed' | 'failed' {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const params = (parameters ?? {}) as { subject?: unknown; payload?: unknown };
    step.attempt = 1;
    const subject = params.subject;
    if (
      typeof subject !== 'string' ||
      !subject.startsWith('events.') ||
      !isValidSubjectPattern(subject) ||
      subject.includes('*') ||
      subject.includes('>')
    ) {
      const error: ErrorInfo = {
        type: ErrorCode.VALIDATION_FAILED,
        message: `step '${stepDef.id}' emit subject must be a concrete subject under events. (got ${JSON.stringify(subject)})`,
        nonRetryable: true,
      };
      this.failStep(draft, stepDef, error);
      this.failExecution(draft, stepDef.id, error);
      return 'failed';
    }
    const msgId = `emit:${record.id}:${stepDef.id}`;
    draft.publish(subject, msgId, params.payload ?? null, {
      'Baton-Execution-Id': record.id,
      'Baton-Workflow-Id': record.workflowId,
      'Baton-Step-Id': stepDef.id,
    });
    step.status = StepStatus.COMPLETED;
    step.scheduledAt = draft.at;
    step.finishedAt = draft.at;
    step.output = { subject, msgId };
    draft.event(HistoryEventType.EVENT_EMITTED, {
      stepId: stepDef.id,
      attempt: 1,
      data: { subject, msgId, payload: params.payload ?? null },
    });
    draft.event(HistoryEventType.STEP_COMPLETED, {
      stepId: stepDef.id,
      attempt: 1,
      status: StepStatus.COMPLETED,
      data: { output: step.output },
    });
    return 'completed';
  }

  private failStep(draft: Draft, stepDef: StepDefinition, error: ErrorInfo, workerId?: string): void {
    const step = draft.record.steps[stepDef.id];
    step.status = StepStatus.FAILED;
    step.error = error;
    step.finishedAt = draft.at;
    draft.event(HistoryEventType.STEP_FAILED, {
      stepId: stepDef.id,
      attempt: step.attempt,
      status: StepStatus.FAILED,
      data: { error, ...(workerId ? { workerId } : {}) },
    });
  }

  private failExecution(draft: Draft, stepId: string | undefined, error: ErrorInfo): void {
    const record = draft.record;
    record.status = ExecutionStatus.FAILED;
    record.error = { ...error, ...(stepId ? { stepId } : {}) };
    record.finishedAt = draft.at;
    draft.event(HistoryEventType.EXECUTION_FAILED, {
      status: ExecutionStatus.FAILED,
      data: { error: record.error },
    });
  }

  private async completeExecution(def: WorkflowDefinition, draft: Draft): Promise<void> {
    const record = draft.record;
    let output: unknown;
    try {
      output =
        def.output === undefined
          ? defaultOutput(record)
          : await this.options.evaluator.evaluateTemplate(def.output, bindingsOf(record), 'workflow output');
    } catch (err) {
      this.failExecution(draft, undefined, errorInfoOf(err, ErrorCode.EXPRESSION_FAILED));
      return;
    }
    record.status = ExecutionStatus.COMPLETED;
    record.output = output;
    record.finishedAt = draft.at;
    draft.event(HistoryEventType.EXECUTION_COMPLETED, {
      status: ExecutionStatus.COMPLETED,
      data: { output },
    });
  }

  /** Closes a transition and serialises it once; a record over the size bound fails the execution. */
  private finish(draft: Draft): ExecutionRecord {
    const record = this.close(draft);
    const json = JSON.stringify(record);
    if (Buffer.byteLength(json) <= this.options.maxStateBytes || isTerminalExecutionStatus(record.status)) {
      serialized.set(record, json);
      return record;
    }
    // Too large to keep: drop the outputs, fail the execution, and close the transition again.
    draft.outbox.length = 0;
    record.revision -= 1;
    for (const step of Object.values(record.steps)) delete step.output;
    this.failExecution(draft, undefined, {
      type: ErrorCode.STATE_TOO_LARGE,
      message: `execution state exceeds ${this.options.maxStateBytes} bytes; step outputs were dropped`,
      nonRetryable: true,
    });
    const failed = this.close(draft);
    serialized.set(failed, JSON.stringify(failed));
    return failed;
  }

  /** Closes a transition: revision, history batch and completion notice into the outbox. */
  private close(draft: Draft): ExecutionRecord {
    const record = draft.record;
    record.revision += 1;
    record.updatedAt = draft.at;
    const batch: HistoryBatch = {
      protocol: PROTOCOL_VERSION,
      executionId: record.id,
      workflowId: record.workflowId,
      version: record.version,
      revision: record.revision,
      status: record.status,
      startedAt: record.startedAt,
      updatedAt: record.updatedAt,
      ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
      ...(record.revision === 1 ? { input: record.input } : {}),
      ...(record.output !== undefined ? { output: record.output } : {}),
      ...(record.error ? { error: record.error } : {}),
      steps: summarize(record),
      events: draft.events,
    };
    const newOutbox = draft.outbox;
    newOutbox.push({
      subject: Subjects.history(record.id),
      msgId: `history:${record.id}:${record.revision}`,
      body: batch,
      headers: { 'Baton-Execution-Id': record.id, 'Baton-Workflow-Id': record.workflowId },
    });
    if (draft.finishedNow) {
      const notice: ExecutionFinishedEvent = {
        executionId: record.id,
        workflowId: record.workflowId,
        version: record.version,
        status: record.status,
        ...(record.output !== undefined ? { output: record.output } : {}),
        ...(record.error ? { error: record.error } : {}),
      };
      newOutbox.push({
        subject: Subjects.executionFinished(record.workflowId, record.status),
        msgId: `finished:${record.id}`,
        body: notice,
        headers: { 'Baton-Execution-Id': record.id, 'Baton-Workflow-Id': record.workflowId },
      });
    }
    if (record.trace) {
      for (const entry of newOutbox) entry.headers = { ...record.trace, ...(entry.headers ?? {}) };
    }
    record.outbox = newOutbox;
    return record;
  }
}

/** Mutable copy of a record for one transition, collecting history events and outgoing messages. */
class Draft {
  readonly record: ExecutionRecord;
  readonly events: HistoryEvent[] = [];
  readonly outbox: OutboxEntry[] = [];
  private readonly wasTerminal: boolean;

  constructor(
    previous: ExecutionRecord,
    readonly at: string,
    readonly nonce: () => string,
  ) {
    // Copy-on-write: transitions replace nested values (inputs, outputs, errors) and never mutate them, so
    // copying the record and its step records is enough (a deep clone was 2% of the orchestrator's CPU).
    const steps: Record<string, StepRecord> = {};
    for (const [id, step] of Object.entries(previous.steps)) steps[id] = { ...step };
    this.record = { ...previous, steps, outbox: [] };
    this.wasTerminal = isTerminalExecutionStatus(previous.status) && previous.revision > 0;
  }

  get finishedNow(): boolean {
    return !this.wasTerminal && isTerminalExecutionStatus(this.record.status);
  }

  event(type: HistoryEventTypeT, fields: Omit<HistoryEvent, 'seq' | 'type' | 'at'> = {}): void {
    this.record.seq += 1;
    this.events.push({ seq: this.record.seq, type, at: this.at, ...fields });
  }

  publish(subject: string, msgId: string, body: unknown, headers?: Record<string, string>): void {
    this.outbox.push({ subject, msgId, body, ...(headers ? { headers } : {}) });
  }
}

export interface TaskToken {
  executionId: string;
  stepId: string;
  attempt: number;
  nonce: string;
}

/** The token of a task: unguessable (random nonce kept in the step record), checked on use. */
export function encodeTaskToken(token: TaskToken): string {
  return Buffer.from(`${token.executionId}|${token.stepId}|${token.attempt}|${token.nonce}`).toString(
    'base64url',
  );
}

export function decodeTaskToken(token: string): TaskToken {
  const invalid = () =>
    new BatonError(ErrorCode.NOT_FOUND, 'unknown or malformed task token', { retryable: false });
  if (!/^[A-Za-z0-9_-]{8,512}$/.test(token)) throw invalid();
  const parts = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (parts.length !== 4) throw invalid();
  const [executionId, stepId, attemptText, nonce] = parts as [string, string, string, string];
  const attempt = Number(attemptText);
  if (!Number.isInteger(attempt) || attempt < 1 || !executionId || !stepId || !nonce) throw invalid();
  return { executionId, stepId, attempt, nonce };
}

export function bindingsOf(record: ExecutionRecord): ExpressionBindings {
  const steps: Record<string, { output?: unknown; status?: string }> = {};
  for (const [id, step] of Object.entries(record.steps)) {
    steps[id] = { status: step.status, ...(step.output !== undefined ? { output: step.output } : {}) };
  }
  return {
    input: record.input,
    steps,
    execution: {
      id: record.id,
      workflowId: record.workflowId,
      version: record.version,
      startedAt: record.startedAt,
    },
  };
}

/** Outcomes of the completed decision steps (`output.outcome`), which choose the branches to follow. */
function decisionsOf(def: WorkflowDefinition, record: ExecutionRecord): Record<string, string> {
  const decisions: Record<string, string> = {};
  for (const step of def.steps) {
    if (step.type !== StepType.DECISION) continue;
    const state = record.steps[step.id];
    if (state?.status !== StepStatus.COMPLETED) continue;
    const outcome = (state.output as { outcome?: unknown } | undefined)?.outcome;
    decisions[step.id] = typeof outcome === 'string' && outcome.length > 0 ? outcome : 'default';
  }
  return decisions;
}

function defaultOutput(record: ExecutionRecord): Record<string, unknown> {
  const output: Record<string, unknown> = {};
  for (const [id, step] of Object.entries(record.steps)) {
    if (step.status === StepStatus.COMPLETED && step.output !== undefined) output[id] = step.output;
  }
  return output;
}

function summarize(record: ExecutionRecord): Record<string, StepSummary> {
  const steps: Record<string, StepSummary> = {};
  for (const [id, step] of Object.entries(record.steps)) {
    steps[id] = {
      status: step.status,
      attempt: step.attempt,
      ...(step.scheduledAt ? { startedAt: step.scheduledAt } : {}),
      ...(step.finishedAt ? { finishedAt: step.finishedAt } : {}),
      ...(step.output !== undefined ? { output: step.output } : {}),
      ...(step.error ? { error: step.error } : {}),
    };
  }
  return steps;
}

function staleReason(record: ExecutionRecord, step: StepRecord, result: TaskResult): string {
  if (isTerminalExecutionStatus(record.status)) return `execution is ${record.status}`;
  if (step.taskId !== result.taskId)
    return `current attempt is ${step.attempt} (task ${step.taskId ?? 'none'})`;
  return `step is ${step.status}`;
}

function errorInfoOf(err: unknown, fallbackType: string): ErrorInfo {
  if (isBatonError(err)) return { type: err.code, message: err.message, nonRetryable: !err.retryable };
  const message = err instanceof Error ? err.message : String(err);
  return { type: fallbackType, message };
}

function jsonSize(value: unknown): number {
  if (value === undefined) return 0;
  return Buffer.byteLength(JSON.stringify(value));
}
