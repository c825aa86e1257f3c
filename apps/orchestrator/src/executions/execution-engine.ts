import { randomUUID } from 'node:crypto';

import {
  BatonError,
  ErrorCode,
  ExecutionStatus,
  HistoryEventType,
  KvBuckets,
  OnExhausted,
  PROTOCOL_VERSION,
  StepStatus,
  StepType,
  Subjects,
  TimerPurpose,
  deterministicId,
  isBatonError,
  isFinishedStepStatus,
  isTerminalExecutionStatus,
  isValidSubjectPattern,
} from '@baton/contracts';
import type {
  Compensation,
  ErrorInfo,
  ErrorPolicy,
  EscalationAlert,
  ExecutionFinishedEvent,
  ExecutionSignal,
  HistoryBatch,
  HistoryEvent,
  HistoryEventType as HistoryEventTypeT,
  OrchestratorEventMatch,
  OrchestratorTimer,
  RetryPolicy,
  Routing,
  StepDefinition,
  StepSummary,
  TaskCancelNotice,
  TaskHeartbeat,
  TaskMessage,
  TaskResult,
  TimerCancelRequest,
  TimerPurpose as TimerPurposeT,
  TimerSetRequest,
  WorkflowDefinition,
} from '@baton/contracts';
import { evaluateDag } from '@baton/workflow';
import type { ExpressionBindings, StepView } from '@baton/workflow';

import type { RouteChoice, RouteContext } from '../routing/routing';
import type { CompensationRecord, ExecutionRecord, OutboxEntry, StepRecord } from './execution.model';
import {
  DEFAULT_COMPENSATION_RETRY,
  NO_RETRY,
  backoffDelayMs,
  effectivePolicy,
  isRetryable,
} from './retry-policy';
import type { EffectiveRetryPolicy } from './retry-policy';

/** The JSON of each record the engine produced, computed once and reused by the store. */
const serialized = new WeakMap<ExecutionRecord, string>();

/** The JSON text of a record (cached for records produced by the engine). */
export function serializeRecord(record: ExecutionRecord): string {
  return serialized.get(record) ?? JSON.stringify(record);
}

/** How many stale results an execution remembers, so a redelivered stale result is recorded once. */
const MAX_IGNORED_REMEMBERED = 32;
/** Signals kept per name for a wait step that has not started waiting yet. */
export const MAX_BUFFERED_SIGNALS = 100;
/** Signal ids remembered for de-duplication. */
const MAX_SIGNAL_IDS = 256;
/** A deadline timer that fires this much before the (heartbeat-extended) deadline is re-armed, not obeyed. */
const DEADLINE_SLACK_MS = 20;
/** Header that marks a KV message as a delete (the waits index is written through the outbox). */
const KV_OPERATION = 'KV-Operation';

/** Error type of a routed step whose candidates all cost more than the execution's remaining budget. */
export const BUDGET_EXCEEDED = 'BUDGET_EXCEEDED';

/** Error type of steps that stopped because the execution failed, was terminated, or compensates. */
export const CANCELLED = 'CANCELLED';

/** Which error policy applies to a failure (the policies registry satisfies this). */
export interface PolicyResolver {
  resolve(def: WorkflowDefinition, step: StepDefinition, errorType: string): ErrorPolicy | undefined;
}

/**
 * Per-action circuit breaking: whether an attempt of `action` may be dispatched now, and what became of
 * each attempt. Held attempts wait (a HOLD timer), they do not fail.
 */
export interface CircuitGate {
  check(action: string, now: number): { allowed: true } | { allowed: false; retryAt: number };
  record(action: string, outcome: 'success' | 'failure', now: number): void;
}

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
  /** For retry jitter and weighted routing; default Math.random. */
  random?: () => number;
  /** Retry policy of steps that name none and match no error policy; default one attempt. */
  defaultRetryPolicy?: RetryPolicy;
  /** Error policies (CONTRACT §3.3); none when absent. */
  policies?: PolicyResolver;
  /** Circuit breaking per action; none when absent. */
  circuits?: CircuitGate;
  /** Routing of task steps with `routing` (required for such definitions). */
  chooseRoute?: (routing: Routing, ctx: RouteContext) => RouteChoice;
  /** Whether an action has a live worker (routing); default: every action is live. */
  isLive?: (action: string) => boolean;
}

/** Outcomes of attempts, to report to the circuit breaker once the transition is written. */
const circuitEffects = new WeakMap<ExecutionRecord, { action: string; outcome: 'success' | 'failure' }[]>();

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
 * then publishes the outbox with the stable message ids computed here. Time is handed to the scheduler as
 * timer requests in the outbox (retry backoff, deadlines, waits, held attempts), and comes back as
 * `OrchestratorTimer` messages; see docs/adr/0024-time-in-the-execution-engine.md and
 * docs/adr/0025-failures-sagas-and-operator-actions.md.
 */
export class ExecutionEngine {
  private readonly now: () => Date;
  private readonly nonce: () => string;
  private readonly random: () => number;
  private readonly defaultRetry: EffectiveRetryPolicy;

  constructor(private readonly options: EngineOptions) {
    this.now = options.now ?? (() => new Date());
    this.nonce = options.nonce ?? (() => randomUUID().replace(/-/g, ''));
    this.random = options.random ?? Math.random;
    this.defaultRetry = effectivePolicy(options.defaultRetryPolicy, NO_RETRY);
  }

  /** After the runner wrote `record`: tells the circuit breaker what became of the attempts. */
  committed(record: ExecutionRecord): void {
    const effects = circuitEffects.get(record);
    if (!effects || !this.options.circuits) return;
    const now = this.now().getTime();
    for (const effect of effects) this.options.circuits.record(effect.action, effect.outcome, now);
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
   * Applies a task result (or a compensation's). Returns `null` when the result was already applied (a
   * redelivery): nothing changes. A result for another attempt, or for a finished execution, is recorded as
   * stale and ignored.
   */
  async applyResult(
    def: WorkflowDefinition,
    previous: ExecutionRecord,
    result: TaskResult,
  ): Promise<ExecutionRecord | null> {
    const step = previous.steps[result.stepId];
    const at = this.now().toISOString();
    if (step && step.taskId === result.taskId && isFinishedStepStatus(step.status)) return null;
    if (step?.compensation?.taskId === result.taskId && step.compensation.status !== 'SCHEDULED') return null;
    const draft = new Draft(previous, at, this.nonce);
    const current = draft.record.steps[result.stepId];
    const stepDef = def.steps.find((s) => s.id === result.stepId);
    if (
      current?.compensation &&
      stepDef &&
      current.compensation.taskId === result.taskId &&
      current.compensation.status === 'SCHEDULED' &&
      !current.compensation.retryAt &&
      draft.record.status === ExecutionStatus.COMPENSATING
    ) {
      await this.applyCompensationResult(def, draft, stepDef, result);
      return this.finish(draft);
    }
    const live =
      current !== undefined && stepDef !== undefined && isLiveAttempt(draft.record, current, result.taskId);
    if (!live) return this.recordStale(draft, previous, current, result);
    const def_ = stepDef;
    if (def_.type === StepType.TASK && !(result.status === 'failed' && isBusinessError(def_, result.error))) {
      // Errors the workflow declares final (non-retryable) say nothing about the action's health.
      this.circuit(draft, current.route?.action ?? (def_.action as string), result.status);
    }
    this.cancelTimers(draft, current);
    if (result.status === 'completed') {
      const size = jsonSize(result.output);
      if (size > this.options.maxOutputBytes) {
        await this.failAttempt(def, draft, def_, {
          type: 'OUTPUT_TOO_LARGE',
          message: `step '${def_.id}' output is ${size} bytes; the limit is ${this.options.maxOutputBytes}`,
          nonRetryable: true,
        });
        return this.finish(draft);
      }
      this.completeStep(draft, def_, result.output, { workerId: result.workerId });
      if (current.route && current.route.cost > 0) {
        draft.record.spent = (draft.record.spent ?? 0) + current.route.cost;
        draft.event(HistoryEventType.BUDGET_CHARGED, {
          stepId: def_.id,
          attempt: current.attempt,
          data: {
            action: current.route.action,
            cost: current.route.cost,
            spent: draft.record.spent,
            limit: def.budget?.limit,
          },
        });
      }
      await this.advance(def, draft);
      return this.finish(draft);
    }
    const error: ErrorInfo = {
      type: result.error?.type ?? ErrorCode.TASK_FAILED,
      message: result.error?.message ?? 'the worker reported a failure without an error',
      ...(result.error?.nonRetryable ? { nonRetryable: true } : {}),
      ...(result.error?.details !== undefined ? { details: result.error.details } : {}),
    };
    await this.failAttempt(def, draft, def_, error, result.workerId);
    return this.finish(draft);
  }

  /** A fired timer (retry backoff, deadline, wait, held attempt). `null` when it is stale: nothing changes. */
  async applyTimer(
    def: WorkflowDefinition,
    previous: ExecutionRecord,
    timer: OrchestratorTimer,
  ): Promise<ExecutionRecord | null> {
    if (isTerminalExecutionStatus(previous.status)) return null;
    const step = previous.steps[timer.stepId];
    const stepDef = def.steps.find((s) => s.id === timer.stepId);
    if (!step || !stepDef) return null;
    const draft = new Draft(previous, this.now().toISOString(), this.nonce);
    const current = draft.record.steps[timer.stepId];
    const nowMs = Date.parse(draft.at);
    switch (timer.purpose) {
      case TimerPurpose.RETRY:
      case TimerPurpose.HOLD: {
        const comp = current.compensation;
        if (
          draft.record.status === ExecutionStatus.COMPENSATING &&
          comp?.status === 'SCHEDULED' &&
          comp.retryAt &&
          comp.attempt === timer.attempt
        ) {
          current.compensation = { ...comp };
          delete current.compensation.retryAt;
          this.dispatchCompensation(def, draft, stepDef, current.compensation.input);
          return this.finish(draft);
        }
        if (
          current.status !== StepStatus.SCHEDULED ||
          !current.retryAt ||
          current.attempt !== timer.attempt ||
          draft.record.parked ||
          draft.record.status === ExecutionStatus.COMPENSATING
        ) {
          return null;
        }
        delete current.retryAt;
        current.timerIds = (current.timerIds ?? []).filter((id) => id !== timer.timerId);
        await this.dispatchTask(def, draft, stepDef, current.input);
        return this.finish(draft);
      }
      case TimerPurpose.DEADLINE: {
        if (!isLiveAttempt(draft.record, current, current.taskId) || current.attempt !== timer.attempt)
          return null;
        const deadline = Date.parse(current.deadlineAt ?? '');
        if (Number.isFinite(deadline) && deadline - nowMs > DEADLINE_SLACK_MS) {
          // A heartbeat extended the deadline after this timer was armed: wait for the new one.
          this.armTimer(draft, stepDef.id, current, TimerPurpose.DEADLINE, current.deadlineAt as string);
          return this.finish(draft);
        }
        this.cancelTasks(
          draft,
          [current.taskId as string],
          `attempt ${current.attempt} of step '${stepDef.id}' timed out`,
        );
        draft.event(HistoryEventType.STEP_TIMED_OUT, {
          stepId: stepDef.id,
          attempt: current.attempt,
          data: { deadlineAt: current.deadlineAt, taskId: current.taskId },
        });
        if (stepDef.type === StepType.TASK)
          this.circuit(draft, current.route?.action ?? (stepDef.action as string), 'failed');
        await this.failAttempt(def, draft, stepDef, {
          type: ErrorCode.TIMEOUT,
          message: `step '${stepDef.id}' attempt ${current.attempt} exceeded timeoutSeconds ${stepDef.timeoutSeconds}`,
        });
        return this.finish(draft);
      }
      case TimerPurpose.WAIT: {
        if (
          current.status !== StepStatus.RUNNING ||
          current.wait?.kind !== 'time' ||
          current.attempt !== timer.attempt
        ) {
          return null;
        }
        this.completeStep(draft, stepDef, { waitedUntil: current.wait.until });
        await this.advance(def, draft);
        return this.finish(draft);
      }
      case TimerPurpose.WAIT_TIMEOUT: {
        if (current.status !== StepStatus.RUNNING || !current.wait || current.attempt !== timer.attempt)
          return null;
        const what =
          current.wait.kind === 'signal'
            ? `signal '${current.wait.signal}'`
            : `an event on ${current.wait.subject}`;
        const timeoutAt = current.wait.timeoutAt;
        this.closeWait(draft, current);
        await this.failAttempt(def, draft, stepDef, {
          type: ErrorCode.TIMEOUT,
          message: `step '${stepDef.id}' waited for ${what} past its timeout (${timeoutAt})`,
          nonRetryable: true,
        });
        return this.finish(draft);
      }
      default:
        return null;
    }
  }

  /** A worker's heartbeat: the attempt is RUNNING and its deadline moves. `null` when nothing changes. */
  applyHeartbeat(
    def: WorkflowDefinition,
    previous: ExecutionRecord,
    heartbeat: TaskHeartbeat,
  ): ExecutionRecord | null {
    const step = previous.steps[heartbeat.stepId];
    const stepDef = def.steps.find((s) => s.id === heartbeat.stepId);
    if (!step || !stepDef || !isLiveAttempt(previous, step, heartbeat.taskId)) return null;
    const at = this.now().toISOString();
    const nowMs = Date.parse(at);
    const extended = stepDef.timeoutSeconds
      ? new Date(nowMs + stepDef.timeoutSeconds * 1000).toISOString()
      : undefined;
    const last = step.heartbeatAt ? Date.parse(step.heartbeatAt) : 0;
    // Heartbeats repeat; one write a second is enough to move the deadline.
    if (step.status === StepStatus.RUNNING && nowMs - last < HEARTBEAT_WRITE_INTERVAL_MS) return null;
    const draft = new Draft(previous, at, this.nonce);
    const current = draft.record.steps[heartbeat.stepId];
    const first = current.status === StepStatus.SCHEDULED;
    current.status = StepStatus.RUNNING;
    current.heartbeatAt = at;
    if (first) current.startedAt = at;
    if (extended) current.deadlineAt = extended;
    draft.event(HistoryEventType.STEP_HEARTBEAT, {
      stepId: stepDef.id,
      attempt: current.attempt,
      status: StepStatus.RUNNING,
      data: {
        taskId: heartbeat.taskId,
        ...(extended ? { deadlineAt: extended } : {}),
        ...(heartbeat.details !== undefined ? { details: heartbeat.details } : {}),
      },
    });
    return this.finish(draft);
  }

  /**
   * A signal: completes the wait step waiting for it, or is kept until one does. `null` for a signal
   * already applied (same `signalId`) or an execution that is over.
   */
  async applySignal(
    def: WorkflowDefinition,
    previous: ExecutionRecord,
    signal: ExecutionSignal,
  ): Promise<ExecutionRecord | null> {
    if (isTerminalExecutionStatus(previous.status)) return null;
    if (previous.signalIds?.includes(signal.signalId)) return null;
    const draft = new Draft(previous, this.now().toISOString(), this.nonce);
    const record = draft.record;
    record.signalIds = [...(previous.signalIds ?? []), signal.signalId].slice(-MAX_SIGNAL_IDS);
    const waiting = def.steps.find((s) => {
      const st = record.steps[s.id];
      return st.status === StepStatus.RUNNING && st.wait?.kind === 'signal' && st.wait.signal === signal.name;
    });
    draft.event(HistoryEventType.SIGNAL_RECEIVED, {
      ...(waiting ? { stepId: waiting.id } : {}),
      data: {
        name: signal.name,
        signalId: signal.signalId,
        payload: signal.payload ?? null,
        buffered: !waiting,
      },
    });
    if (!waiting) {
      const kept = [...(record.signals?.[signal.name] ?? [])];
      kept.push({ payload: signal.payload ?? null, at: draft.at, signalId: signal.signalId });
      record.signals = { ...(record.signals ?? {}), [signal.name]: kept.slice(-MAX_BUFFERED_SIGNALS) };
      return this.finish(draft);
    }
    const step = record.steps[waiting.id];
    this.closeWait(draft, step);
    this.completeStep(draft, waiting, { signal: signal.name, payload: signal.payload ?? null });
    await this.advance(def, draft);
    return this.finish(draft);
  }

  /** An event matched a `wait {event}` step. `null` when the step no longer waits for it. */
  async applyEventMatch(
    def: WorkflowDefinition,
    previous: ExecutionRecord,
    match: OrchestratorEventMatch,
  ): Promise<ExecutionRecord | null> {
    if (isTerminalExecutionStatus(previous.status)) return null;
    const step = previous.steps[match.stepId];
    const stepDef = def.steps.find((s) => s.id === match.stepId);
    if (!step || !stepDef || step.status !== StepStatus.RUNNING || step.wait?.kind !== 'event') return null;
    if (step.attempt !== match.attempt) return null;
    const draft = new Draft(previous, this.now().toISOString(), this.nonce);
    const current = draft.record.steps[match.stepId];
    this.closeWait(draft, current);
    draft.event(HistoryEventType.EVENT_MATCHED, {
      stepId: stepDef.id,
      attempt: current.attempt,
      data: { subject: match.subject, eventSeq: match.eventSeq },
    });
    this.completeStep(draft, stepDef, { subject: match.subject, event: match.event });
    await this.advance(def, draft);
    return this.finish(draft);
  }

  /**
   * `POST /v1/executions/:id/terminate`: cancels running attempts (workers are told), stops scheduling and
   * ends the execution TERMINATED. Throws CONFLICT for an execution that is already over.
   */
  terminate(def: WorkflowDefinition, previous: ExecutionRecord, reason: string): ExecutionRecord {
    if (isTerminalExecutionStatus(previous.status) && !previous.attention) {
      throw new BatonError(ErrorCode.CONFLICT, `execution ${previous.id} is already ${previous.status}`, {
        retryable: false,
      });
    }
    const draft = new Draft(previous, this.now().toISOString(), this.nonce);
    const record = draft.record;
    this.stopInFlight(def, draft, `execution terminated: ${reason}`);
    for (const stepDef of def.steps) {
      const step = record.steps[stepDef.id];
      if (step.status !== StepStatus.PENDING) continue;
      step.status = StepStatus.SKIPPED;
      step.finishedAt = draft.at;
      draft.event(HistoryEventType.STEP_SKIPPED, {
        stepId: stepDef.id,
        status: StepStatus.SKIPPED,
        data: { reason: 'terminated' },
      });
    }
    record.status = ExecutionStatus.TERMINATED;
    record.error = { type: 'TERMINATED', message: reason };
    record.finishedAt = draft.at;
    delete record.parked;
    delete record.attention;
    draft.forceFinishNotice();
    draft.event(HistoryEventType.EXECUTION_TERMINATED, {
      status: ExecutionStatus.TERMINATED,
      data: { reason },
    });
    return this.finishSync(draft);
  }

  /**
   * `POST /v1/executions/:id/retry`: resumes a FAILED execution from its failed steps (completed outputs
   * are kept), a parked (escalated) one from its parked step, or a failed compensation. Throws CONFLICT
   * for executions that cannot be resumed.
   */
  async retry(def: WorkflowDefinition, previous: ExecutionRecord): Promise<ExecutionRecord> {
    const resumable =
      previous.status === ExecutionStatus.FAILED ||
      (previous.status === ExecutionStatus.WAITING && previous.parked !== undefined);
    if (!resumable) {
      throw new BatonError(
        ErrorCode.CONFLICT,
        `execution ${previous.id} is ${previous.status}: only FAILED or escalated executions can be retried`,
        { retryable: false },
      );
    }
    const draft = new Draft(previous, this.now().toISOString(), this.nonce);
    const record = draft.record;
    record.reruns = (record.reruns ?? 0) + 1;
    const wasFailed = previous.status === ExecutionStatus.FAILED;
    const compensationFailed = def.steps.find((s) => record.steps[s.id].compensation?.status === 'FAILED');
    delete record.attention;
    delete record.finishedAt;
    delete record.error;
    if (compensationFailed) {
      const step = record.steps[compensationFailed.id];
      const comp = step.compensation as CompensationRecord;
      step.compensation = { ...comp, status: 'SCHEDULED', retryBase: comp.attempt };
      delete step.compensation.error;
      record.status = ExecutionStatus.COMPENSATING;
      draft.event(HistoryEventType.EXECUTION_RETRIED, {
        status: ExecutionStatus.COMPENSATING,
        data: { resumed: 'compensation', stepId: compensationFailed.id },
      });
      if (comp.input === undefined) await this.compensate(def, draft, compensationFailed);
      else this.dispatchCompensation(def, draft, compensationFailed, comp.input);
      return this.finish(draft);
    }
    const reset: string[] = [];
    for (const stepDef of def.steps) {
      const step = record.steps[stepDef.id];
      const parkedHere = record.parked?.stepId === stepDef.id;
      if ((wasFailed && step.status === StepStatus.FAILED && !step.continued) || parkedHere) {
        step.status = StepStatus.PENDING;
        step.retryBase = step.attempt;
        delete step.error;
        delete step.finishedAt;
        delete step.retryAt;
        delete step.wait;
        delete step.deadlineAt;
        if (step.route) step.route = { ...step.route, failed: [], since: step.attempt + 1 };
        reset.push(stepDef.id);
      }
    }
    delete record.parked;
    delete record.failure;
    record.status = ExecutionStatus.RUNNING;
    draft.event(HistoryEventType.EXECUTION_RETRIED, {
      status: ExecutionStatus.RUNNING,
      data: { steps: reset },
    });
    await this.advance(def, draft);
    return this.finish(draft);
  }

  // ---------------------------------------------------------------------------------------------------
  // Scheduling

  /** Steps become ready, are skipped, scheduled or completed at once until nothing changes. */
  private async advance(def: WorkflowDefinition, draft: Draft): Promise<void> {
    const record = draft.record;
    for (let guard = 0; guard <= def.steps.length + 1; guard++) {
      if (halted(record)) return;
      const { ready, skip } = evaluateDag(def, dagView(record), decisionsOf(def, record));
      for (const id of skip) {
        const step = record.steps[id];
        if (step.status !== StepStatus.PENDING) continue;
        step.status = StepStatus.SKIPPED;
        step.finishedAt = draft.at;
        draft.event(HistoryEventType.STEP_SKIPPED, { stepId: id, status: StepStatus.SKIPPED });
      }
      let completedSynchronously = skip.length > 0;
      for (const id of ready) {
        if (halted(record)) return;
        if (record.steps[id].status !== StepStatus.PENDING) continue;
        const stepDef = def.steps.find((s) => s.id === id) as StepDefinition;
        const outcome = await this.schedule(def, draft, stepDef);
        if (halted(record)) return;
        // A completed step, or a failure the execution continues past, may make others ready.
        if (outcome !== 'scheduled') completedSynchronously = true;
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
      await this.failAttempt(def, draft, stepDef, { ...error, nonRetryable: true });
      return 'failed';
    }
    switch (stepDef.type) {
      case StepType.TASK:
      case StepType.DECISION:
        return this.dispatchTask(def, draft, stepDef, parameters);
      case StepType.EMIT:
        return this.emit(def, draft, stepDef, parameters);
      case StepType.WAIT:
        return this.startWait(def, draft, stepDef, parameters);
      default: {
        const error: ErrorInfo = {
          type: ErrorCode.UNSUPPORTED_STEP,
          message: `step '${stepDef.id}' has type '${stepDef.type}', which this orchestrator does not execute`,
          nonRetryable: true,
        };
        step.attempt = Math.max(step.attempt, 1);
        await this.failAttempt(def, draft, stepDef, error);
        return 'failed';
      }
    }
  }

  /**
   * Publishes the next attempt of a step: a task for workers on `baton.tasks.<action>`, or (decision
   * steps) a decision request for the rule-engine on `baton.decisions.<category>`, answered the same way.
   * An attempt of an action whose circuit is open is held (a HOLD timer), not failed.
   */
  private async dispatchTask(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
    input: unknown,
  ): Promise<'scheduled' | 'failed'> {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const decision = stepDef.type === StepType.DECISION;
    let action = stepDef.action as string;
    let cost = 0;
    if (!decision && stepDef.routing) {
      const chosen = this.route(def, draft, stepDef);
      if ('error' in chosen) {
        step.attempt = Math.max(step.attempt, 1);
        this.failStep(draft, stepDef, { ...chosen.error, nonRetryable: true });
        await this.endAfterFailure(
          def,
          draft,
          stepDef,
          { ...chosen.error, nonRetryable: true },
          OnExhausted.FAIL,
        );
        return 'failed';
      }
      action = chosen.action;
      cost = chosen.cost;
    }
    const nowMs = Date.parse(draft.at);
    if (!decision && this.options.circuits) {
      const gate = this.options.circuits.check(action, nowMs);
      if (!gate.allowed) {
        const retryAt = new Date(Math.max(gate.retryAt, nowMs + 1)).toISOString();
        step.status = StepStatus.SCHEDULED;
        step.input = input;
        step.retryAt = retryAt;
        this.armTimer(draft, stepDef.id, step, TimerPurpose.HOLD, retryAt);
        draft.event(HistoryEventType.STEP_HELD, {
          stepId: stepDef.id,
          attempt: step.attempt + 1,
          status: StepStatus.SCHEDULED,
          data: { action, retryAt, reason: `circuit of ${action} is open` },
        });
        return 'scheduled';
      }
    }
    const attempt = step.attempt + 1;
    const taskId = `${record.id}.${stepDef.id}.${attempt}`;
    const nonce = draft.nonce();
    step.status = StepStatus.SCHEDULED;
    step.attempt = attempt;
    step.scheduledAt = draft.at;
    step.input = input;
    step.taskId = taskId;
    step.nonce = nonce;
    delete step.retryAt;
    delete step.heartbeatAt;
    delete step.startedAt;
    const deadlineAt = stepDef.timeoutSeconds
      ? new Date(nowMs + stepDef.timeoutSeconds * 1000).toISOString()
      : undefined;
    if (deadlineAt) step.deadlineAt = deadlineAt;
    else delete step.deadlineAt;
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
      ...(deadlineAt ? { deadline: deadlineAt } : {}),
      ...(decision && def.rules !== 'latest' ? { rulesAsOf: record.startedAt } : {}),
    };
    draft.publish(decision ? Subjects.decision(action) : Subjects.task(action), `task:${taskId}`, task, {
      ...stepHeaders(record, stepDef.id),
      'Baton-Attempt': String(attempt),
    });
    if (deadlineAt) this.armTimer(draft, stepDef.id, step, TimerPurpose.DEADLINE, deadlineAt);
    draft.event(HistoryEventType.STEP_SCHEDULED, {
      stepId: stepDef.id,
      attempt,
      status: StepStatus.SCHEDULED,
      data: {
        action,
        taskId,
        input,
        ...(deadlineAt ? { deadlineAt } : {}),
        ...(task.rulesAsOf ? { rulesAsOf: task.rulesAsOf } : {}),
        ...(stepDef.routing ? { route: { action, cost, strategy: stepDef.routing.strategy } } : {}),
      },
    });
    return 'scheduled';
  }

  /** Picks the candidate of a routed step for its next attempt (keeps the current one while it retries). */
  private route(def: WorkflowDefinition, draft: Draft, stepDef: StepDefinition): RouteChoice {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const routing = stepDef.routing as Routing;
    if (
      step.route &&
      !step.route.failed.includes(step.route.action) &&
      step.status === StepStatus.SCHEDULED
    ) {
      return { action: step.route.action, cost: step.route.cost, reason: 'retry on the same candidate' };
    }
    if (!this.options.chooseRoute) {
      return {
        error: {
          type: 'NO_CANDIDATE',
          message: `step '${stepDef.id}' is routed but this orchestrator has no router`,
        },
      };
    }
    const limit = def.budget?.limit;
    const choice = this.options.chooseRoute(routing, {
      failed: new Set(step.route?.failed ?? []),
      isLive: this.options.isLive ?? (() => true),
      remainingBudget: limit === undefined ? undefined : limit - (record.spent ?? 0),
      key: `${record.workflowId}:${stepDef.id}`,
      random: this.random,
    });
    if ('error' in choice) return choice;
    const remaining = limit === undefined ? undefined : limit - (record.spent ?? 0);
    if (remaining !== undefined && choice.cost > remaining) {
      return {
        error: {
          type: 'BUDGET_EXCEEDED',
          message: `step '${stepDef.id}' would cost ${choice.cost} on ${choice.action}; ${remaining} of the budget ${limit} is left`,
        },
      };
    }
    step.route = {
      action: choice.action,
      cost: choice.cost,
      failed: step.route?.failed ?? [],
      since: step.attempt + 1,
    };
    draft.event(HistoryEventType.ROUTE_CHOSEN, {
      stepId: stepDef.id,
      attempt: step.attempt + 1,
      data: { action: choice.action, cost: choice.cost, reason: choice.reason, strategy: routing.strategy },
    });
    return choice;
  }

  private async emit(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
    parameters: unknown,
  ): Promise<'completed' | 'failed'> {
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
      await this.endAfterFailure(def, draft, stepDef, error, this.exhaustedPolicy(def, stepDef, error));
      return 'failed';
    }
    const msgId = `emit:${record.id}:${stepDef.id}`;
    draft.publish(subject, msgId, params.payload ?? null, stepHeaders(record, stepDef.id));
    step.scheduledAt = draft.at;
    draft.event(HistoryEventType.EVENT_EMITTED, {
      stepId: stepDef.id,
      attempt: 1,
      data: { subject, msgId, payload: params.payload ?? null },
    });
    this.completeStep(draft, stepDef, { subject, msgId });
    return 'completed';
  }

  /** A wait step starts: a timer (time), a kept or awaited signal, or an entry in the event waits index. */
  private async startWait(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
    parameters: unknown,
  ): Promise<'scheduled' | 'completed' | 'failed'> {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const p = (parameters ?? {}) as Record<string, unknown>;
    step.attempt += 1;
    step.scheduledAt = draft.at;
    step.startedAt = draft.at;
    step.input = p;
    const nowMs = Date.parse(draft.at);
    const bad = async (message: string): Promise<'failed'> => {
      const error: ErrorInfo = {
        type: ErrorCode.VALIDATION_FAILED,
        message: `step '${stepDef.id}' ${message}`,
        nonRetryable: true,
      };
      this.failStep(draft, stepDef, error);
      await this.endAfterFailure(def, draft, stepDef, error, this.exhaustedPolicy(def, stepDef, error));
      return 'failed';
    };
    const timeoutAt = (): string | undefined | null => {
      if (p.timeoutSeconds === undefined) return undefined;
      const seconds = Number(p.timeoutSeconds);
      if (!Number.isFinite(seconds) || seconds <= 0) return null;
      return new Date(nowMs + seconds * 1000).toISOString();
    };
    if (p.seconds !== undefined || p.until !== undefined) {
      let until: number;
      if (p.seconds !== undefined) {
        const seconds = Number(p.seconds);
        if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_WAIT_SECONDS) {
          return bad(
            `wait seconds must be a number from 0 to ${MAX_WAIT_SECONDS} (got ${JSON.stringify(p.seconds)})`,
          );
        }
        until = nowMs + seconds * 1000;
      } else {
        until = typeof p.until === 'string' ? Date.parse(p.until) : NaN;
        if (!Number.isFinite(until))
          return bad(`wait until must be an ISO-8601 instant (got ${JSON.stringify(p.until)})`);
      }
      const untilIso = new Date(until).toISOString();
      if (until <= nowMs) {
        this.completeStep(draft, stepDef, { waitedUntil: untilIso });
        return 'completed';
      }
      step.status = StepStatus.RUNNING;
      step.wait = { kind: 'time', until: untilIso };
      this.armTimer(draft, stepDef.id, step, TimerPurpose.WAIT, untilIso);
      draft.event(HistoryEventType.WAIT_STARTED, {
        stepId: stepDef.id,
        attempt: step.attempt,
        status: StepStatus.RUNNING,
        data: { kind: 'time', until: untilIso },
      });
      return 'scheduled';
    }
    const timeout = timeoutAt();
    if (timeout === null)
      return bad(`wait timeoutSeconds must be a positive number (got ${JSON.stringify(p.timeoutSeconds)})`);
    if (typeof p.signal === 'string' && p.signal.length > 0) {
      const kept = record.signals?.[p.signal];
      if (kept && kept.length > 0) {
        const [first, ...rest] = kept;
        const signals = { ...(record.signals ?? {}) };
        if (rest.length > 0) signals[p.signal] = rest;
        else delete signals[p.signal];
        record.signals = signals;
        this.completeStep(draft, stepDef, { signal: p.signal, payload: first.payload, receivedAt: first.at });
        return 'completed';
      }
      step.status = StepStatus.RUNNING;
      step.wait = { kind: 'signal', signal: p.signal, ...(timeout ? { timeoutAt: timeout } : {}) };
      if (timeout) this.armTimer(draft, stepDef.id, step, TimerPurpose.WAIT_TIMEOUT, timeout);
      draft.event(HistoryEventType.WAIT_STARTED, {
        stepId: stepDef.id,
        attempt: step.attempt,
        status: StepStatus.RUNNING,
        data: { kind: 'signal', signal: p.signal, ...(timeout ? { timeoutAt: timeout } : {}) },
      });
      return 'scheduled';
    }
    if (typeof p.event === 'string') {
      const subject = p.event;
      if (!subject.startsWith('events.') || !isValidSubjectPattern(subject)) {
        return bad(`wait event must be a subject pattern under events. (got ${JSON.stringify(subject)})`);
      }
      const indexKey = `${record.id}.${stepDef.id}`;
      step.status = StepStatus.RUNNING;
      step.wait = {
        kind: 'event',
        subject,
        ...(p.condition !== undefined ? { condition: p.condition } : {}),
        ...(timeout ? { timeoutAt: timeout } : {}),
        indexKey,
      };
      const entry: EventWaitEntry = {
        executionId: record.id,
        workflowId: record.workflowId,
        stepId: stepDef.id,
        attempt: step.attempt,
        subject,
        ...(p.condition !== undefined ? { condition: p.condition } : {}),
        since: draft.at,
        ...(timeout ? { timeoutAt: timeout } : {}),
      };
      draft.publish(`$KV.${KvBuckets.WAITS}.${indexKey}`, `wait:${indexKey}:${step.attempt}`, entry);
      if (timeout) this.armTimer(draft, stepDef.id, step, TimerPurpose.WAIT_TIMEOUT, timeout);
      draft.event(HistoryEventType.WAIT_STARTED, {
        stepId: stepDef.id,
        attempt: step.attempt,
        status: StepStatus.RUNNING,
        data: { kind: 'event', subject, ...(timeout ? { timeoutAt: timeout } : {}) },
      });
      return 'scheduled';
    }
    return bad('wait needs one of seconds, until, signal or event');
  }

  // ---------------------------------------------------------------------------------------------------
  // Completion and failure

  private completeStep(
    draft: Draft,
    stepDef: StepDefinition,
    output: unknown,
    extra: { workerId?: string } = {},
  ): void {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    step.status = StepStatus.COMPLETED;
    step.output = output;
    step.finishedAt = draft.at;
    record.completions = (record.completions ?? 0) + 1;
    step.completedSeq = record.completions;
    delete step.error;
    delete step.wait;
    delete step.retryAt;
    draft.event(HistoryEventType.STEP_COMPLETED, {
      stepId: stepDef.id,
      attempt: step.attempt,
      status: StepStatus.COMPLETED,
      data: { output, ...(extra.workerId ? { workerId: extra.workerId } : {}) },
    });
  }

  /**
   * An attempt failed: retried after its backoff when its policy allows (the attempt and its error are in
   * history), else the step fails for good and its error policy decides (fail, compensate, continue,
   * escalate). Routed steps move to the next candidate first.
   */
  private async failAttempt(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
    error: ErrorInfo,
    workerId?: string,
  ): Promise<void> {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const policy = this.options.policies?.resolve(def, stepDef, error.type);
    const retry =
      stepDef.type === StepType.WAIT || stepDef.type === StepType.EMIT
        ? NO_RETRY
        : effectivePolicy(stepDef.retryPolicy ?? policy?.retryPolicy, this.defaultRetry);
    const since = step.route?.since ?? (step.retryBase ?? 0) + 1;
    const attemptsHere = step.attempt - since + 1;
    if (isRetryable(retry, attemptsHere, error)) {
      const delayMs = backoffDelayMs(retry, attemptsHere, this.random);
      const retryAt = new Date(Date.parse(draft.at) + delayMs).toISOString();
      step.status = StepStatus.SCHEDULED;
      step.error = error;
      step.retryAt = retryAt;
      delete step.deadlineAt;
      if (step.taskId) {
        step.timerIds = [];
        draft.record.ignored = [...(record.ignored ?? []), `${step.taskId}:failed`].slice(
          -MAX_IGNORED_REMEMBERED,
        );
      }
      this.armTimer(draft, stepDef.id, step, TimerPurpose.RETRY, retryAt);
      draft.event(HistoryEventType.STEP_RETRY_SCHEDULED, {
        stepId: stepDef.id,
        attempt: step.attempt,
        status: StepStatus.SCHEDULED,
        data: { error, retryAt, delayMs, nextAttempt: step.attempt + 1, ...(workerId ? { workerId } : {}) },
      });
      return;
    }
    if (stepDef.routing && step.route && !isValidationError(error)) {
      // Failover: this candidate failed after its retries; try the next one.
      const failedActions = [...step.route.failed, step.route.action];
      step.route = { ...step.route, failed: failedActions };
      const remaining = stepDef.routing.candidates.filter((c) => !failedActions.includes(c.action));
      if (remaining.length > 0) {
        draft.event(HistoryEventType.STEP_RETRY_SCHEDULED, {
          stepId: stepDef.id,
          attempt: step.attempt,
          status: StepStatus.SCHEDULED,
          data: {
            error,
            failover: { from: failedActions[failedActions.length - 1] },
            nextAttempt: step.attempt + 1,
          },
        });
        step.status = StepStatus.SCHEDULED;
        step.error = error;
        await this.dispatchTask(def, draft, stepDef, step.input);
        return;
      }
    }
    this.failStep(draft, stepDef, error, workerId);
    await this.endAfterFailure(def, draft, stepDef, error, this.exhaustedPolicy(def, stepDef, error, policy));
    if (record.status === ExecutionStatus.RUNNING && !record.parked) await this.advance(def, draft);
  }

  /** What to do when a step failed for good: its error policy's `onExhausted`, else compensate or fail. */
  private exhaustedPolicy(
    def: WorkflowDefinition,
    stepDef: StepDefinition,
    error: ErrorInfo,
    policy: ErrorPolicy | undefined = this.options.policies?.resolve(def, stepDef, error.type),
  ): OnExhausted {
    if (policy) return policy.onExhausted;
    return def.steps.some((s) => s.compensation !== undefined) ? OnExhausted.COMPENSATE : OnExhausted.FAIL;
  }

  private async endAfterFailure(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
    error: ErrorInfo,
    onExhausted: OnExhausted,
  ): Promise<void> {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    switch (onExhausted) {
      case OnExhausted.CONTINUE:
        step.continued = true;
        draft.event(HistoryEventType.STEP_CONTINUED, {
          stepId: stepDef.id,
          attempt: step.attempt,
          data: { error },
        });
        return;
      case OnExhausted.ESCALATE: {
        record.parked = { stepId: stepDef.id, error, at: draft.at };
        record.attention = {
          reason: `step '${stepDef.id}' failed and its error policy escalated`,
          stepId: stepDef.id,
          at: draft.at,
        };
        record.status = ExecutionStatus.WAITING;
        const alert: EscalationAlert = {
          executionId: record.id,
          workflowId: record.workflowId,
          version: record.version,
          stepId: stepDef.id,
          error,
          at: draft.at,
        };
        draft.publish(
          Subjects.escalation,
          `escalation:${record.id}:${stepDef.id}:${step.attempt}`,
          alert,
          stepHeaders(record, stepDef.id),
        );
        draft.event(HistoryEventType.EXECUTION_ESCALATED, {
          stepId: stepDef.id,
          status: ExecutionStatus.WAITING,
          data: { error },
        });
        return;
      }
      case OnExhausted.COMPENSATE:
        this.stopInFlight(def, draft, `step '${stepDef.id}' failed`);
        await this.startCompensation(def, draft, stepDef.id, error);
        return;
      default:
        this.stopInFlight(def, draft, `step '${stepDef.id}' failed`);
        this.failExecution(draft, stepDef.id, error);
    }
  }

  private failStep(draft: Draft, stepDef: StepDefinition, error: ErrorInfo, workerId?: string): void {
    const step = draft.record.steps[stepDef.id];
    step.status = StepStatus.FAILED;
    step.error = error;
    step.finishedAt = draft.at;
    delete step.retryAt;
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

  /**
   * Stops what is in flight besides the failing step: running attempts are cancelled (workers are told and
   * their results will be stale), waits are closed, pending retries dropped. They end FAILED (CANCELLED).
   */
  private stopInFlight(def: WorkflowDefinition, draft: Draft, reason: string): void {
    const record = draft.record;
    const taskIds: string[] = [];
    for (const stepDef of def.steps) {
      const step = record.steps[stepDef.id];
      if (step.status !== StepStatus.SCHEDULED && step.status !== StepStatus.RUNNING) continue;
      if (step.taskId && !step.retryAt && !step.wait) taskIds.push(step.taskId);
      this.closeWait(draft, step);
      this.cancelTimers(draft, step);
      step.status = StepStatus.FAILED;
      step.error = { type: CANCELLED, message: reason };
      step.finishedAt = draft.at;
      delete step.retryAt;
      draft.event(HistoryEventType.STEP_FAILED, {
        stepId: stepDef.id,
        attempt: step.attempt,
        status: StepStatus.FAILED,
        data: { error: step.error },
      });
    }
    if (taskIds.length > 0) this.cancelTasks(draft, taskIds, reason);
  }

  private cancelTasks(draft: Draft, taskIds: string[], reason: string): void {
    const record = draft.record;
    const notice: TaskCancelNotice = { executionId: record.id, taskIds, reason };
    draft.publish(
      Subjects.taskCancelled(record.id),
      `cancel:${record.id}:${deterministicId(...taskIds)}`,
      notice,
      stepHeaders(record),
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Compensation (saga)

  private async startCompensation(
    def: WorkflowDefinition,
    draft: Draft,
    stepId: string,
    error: ErrorInfo,
  ): Promise<void> {
    const record = draft.record;
    record.failure = { ...error, stepId };
    record.status = ExecutionStatus.COMPENSATING;
    const order = compensationOrder(def, record).map((s) => s.id);
    draft.event(HistoryEventType.COMPENSATION_STARTED, {
      status: ExecutionStatus.COMPENSATING,
      data: { failure: record.failure, steps: order },
    });
    await this.nextCompensation(def, draft);
  }

  /** Runs the next compensation in reverse completion order, or ends the execution COMPENSATED. */
  private async nextCompensation(def: WorkflowDefinition, draft: Draft): Promise<void> {
    const record = draft.record;
    const next = compensationOrder(def, record).find(
      (s) => record.steps[s.id].compensation?.status !== 'COMPLETED',
    );
    if (!next) {
      record.status = ExecutionStatus.COMPENSATED;
      record.error = record.failure;
      record.finishedAt = draft.at;
      draft.event(HistoryEventType.EXECUTION_COMPENSATED, {
        status: ExecutionStatus.COMPENSATED,
        data: { failure: record.failure },
      });
      return;
    }
    await this.compensate(def, draft, next);
  }

  /**
   * Dispatches the first attempt of a step's compensation with its parameters evaluated now (expressions
   * over `$input` and `$steps`, like a step's own parameters). A failing expression fails the compensation
   * for good: the execution ends FAILED and needs attention, as when a compensation task fails.
   */
  private async compensate(def: WorkflowDefinition, draft: Draft, stepDef: StepDefinition): Promise<void> {
    const spec = stepDef.compensation as Compensation;
    let parameters: unknown;
    try {
      parameters = await this.options.evaluator.evaluateTemplate(
        spec.parameters ?? {},
        bindingsOf(draft.record),
        `compensation of step '${stepDef.id}' parameters`,
      );
    } catch (err) {
      const error = { ...errorInfoOf(err, ErrorCode.EXPRESSION_FAILED), nonRetryable: true };
      this.failCompensation(draft, stepDef, this.nextCompensationAttempt(draft, stepDef), error);
      return;
    }
    this.dispatchCompensation(def, draft, stepDef, parameters);
  }

  /** The step's next compensation attempt, SCHEDULED (keeping the retry base of the earlier attempts). */
  private nextCompensationAttempt(
    draft: Draft,
    stepDef: StepDefinition,
    input?: unknown,
  ): CompensationRecord {
    const step = draft.record.steps[stepDef.id];
    const previous = step.compensation;
    const attempt = (previous?.attempt ?? 0) + 1;
    step.compensation = {
      status: 'SCHEDULED',
      attempt,
      taskId: `${draft.record.id}.${stepDef.id}.c${attempt}`,
      nonce: draft.nonce(),
      ...(input !== undefined ? { input } : {}),
      ...(previous?.retryBase !== undefined ? { retryBase: previous.retryBase } : {}),
    };
    return step.compensation;
  }

  private dispatchCompensation(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
    input: unknown,
  ): void {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const spec = stepDef.compensation as Compensation;
    const parameters = input ?? {};
    const { attempt, taskId, nonce } = this.nextCompensationAttempt(draft, stepDef, parameters);
    const task: TaskMessage = {
      protocol: PROTOCOL_VERSION,
      taskId,
      executionId: record.id,
      workflowId: record.workflowId,
      workflowVersion: record.version,
      stepId: stepDef.id,
      attempt,
      action: spec.action,
      input: parameters,
      idempotencyKey: `${record.id}:${stepDef.id}:compensate`,
      replyTo: Subjects.result(record.id),
      token: encodeTaskToken({ executionId: record.id, stepId: stepDef.id, attempt, nonce }),
      scheduledAt: draft.at,
      compensation: true,
      compensates: { stepId: stepDef.id, input: step.input ?? null, output: step.output ?? null },
    };
    draft.publish(Subjects.task(spec.action), `task:${taskId}`, task, {
      ...stepHeaders(record, stepDef.id),
      'Baton-Attempt': String(attempt),
    });
    draft.event(HistoryEventType.COMPENSATION_SCHEDULED, {
      stepId: stepDef.id,
      attempt,
      data: { action: spec.action, taskId, input: parameters },
    });
  }

  private async applyCompensationResult(
    def: WorkflowDefinition,
    draft: Draft,
    stepDef: StepDefinition,
    result: TaskResult,
  ): Promise<void> {
    const record = draft.record;
    const step = record.steps[stepDef.id];
    const comp = { ...(step.compensation as CompensationRecord) };
    step.compensation = comp;
    if (result.status === 'completed') {
      comp.status = 'COMPLETED';
      comp.output = result.output;
      step.status = StepStatus.COMPENSATED;
      draft.event(HistoryEventType.COMPENSATION_COMPLETED, {
        stepId: stepDef.id,
        attempt: comp.attempt,
        status: StepStatus.COMPENSATED,
        data: { output: result.output ?? null, workerId: result.workerId },
      });
      await this.nextCompensation(def, draft);
      return;
    }
    const error: ErrorInfo = {
      type: result.error?.type ?? ErrorCode.TASK_FAILED,
      message: result.error?.message ?? 'the worker reported a failure without an error',
      ...(result.error?.nonRetryable ? { nonRetryable: true } : {}),
    };
    const policy = effectivePolicy(stepDef.retryPolicy, DEFAULT_COMPENSATION_RETRY);
    const attemptsHere = comp.attempt - (comp.retryBase ?? 0);
    if (isRetryable(policy, attemptsHere, error)) {
      const delayMs = backoffDelayMs(policy, attemptsHere, this.random);
      comp.retryAt = new Date(Date.parse(draft.at) + delayMs).toISOString();
      comp.error = error;
      this.armTimer(
        draft,
        stepDef.id,
        { attempt: comp.attempt },
        TimerPurpose.RETRY,
        comp.retryAt,
        'compensation',
      );
      draft.event(HistoryEventType.COMPENSATION_FAILED, {
        stepId: stepDef.id,
        attempt: comp.attempt,
        data: { error, retryAt: comp.retryAt, delayMs, willRetry: true },
      });
      return;
    }
    this.failCompensation(draft, stepDef, comp, error);
  }

  /** A compensation failed for good: the execution ends FAILED, listed as needing attention. */
  private failCompensation(
    draft: Draft,
    stepDef: StepDefinition,
    comp: CompensationRecord,
    error: ErrorInfo,
  ): void {
    const record = draft.record;
    comp.status = 'FAILED';
    comp.error = error;
    draft.event(HistoryEventType.COMPENSATION_FAILED, {
      stepId: stepDef.id,
      attempt: comp.attempt,
      data: { error, willRetry: false },
    });
    record.attention = {
      reason: `compensation of step '${stepDef.id}' failed`,
      stepId: stepDef.id,
      at: draft.at,
    };
    record.status = ExecutionStatus.FAILED;
    record.error = { ...(record.failure as ErrorInfo), compensationError: error } as ErrorInfo & {
      stepId?: string;
    };
    record.finishedAt = draft.at;
    draft.event(HistoryEventType.EXECUTION_FAILED, {
      status: ExecutionStatus.FAILED,
      data: { error: record.error, attention: record.attention },
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // Timers, waits and stale results

  /** Arms a scheduler timer for the step's current attempt (a `TimerSetRequest` in the outbox). */
  private armTimer(
    draft: Draft,
    stepId: string,
    step: { attempt: number; timerIds?: string[] },
    purpose: TimerPurposeT,
    dueAt: string,
    discriminator = '',
  ): void {
    const record = draft.record;
    const id = deterministicId('timer', record.id, stepId, step.attempt, purpose, dueAt, discriminator);
    const payload: OrchestratorTimer = {
      protocol: PROTOCOL_VERSION,
      kind: 'timer',
      timerId: id,
      executionId: record.id,
      stepId,
      attempt: step.attempt,
      purpose,
    };
    const request: TimerSetRequest = {
      protocol: PROTOCOL_VERSION,
      id,
      dueAt,
      subject: Subjects.timer(record.id),
      payload,
      headers: {
        ...(record.trace ?? {}),
        ...stepHeaders(record, stepId),
        'Baton-Attempt': String(step.attempt),
      },
    };
    draft.publish(Subjects.schedTimerSet, `timer-set:${id}`, request, stepHeaders(record, stepId));
    if ('status' in step || step.timerIds !== undefined)
      step.timerIds = [...(step.timerIds ?? []), id].slice(-8);
  }

  /** Cancels the step's armed timers (they would be stale anyway; this keeps the scheduler's table small). */
  private cancelTimers(draft: Draft, step: StepRecord): void {
    for (const id of step.timerIds ?? []) {
      const request: TimerCancelRequest = { protocol: PROTOCOL_VERSION, id };
      draft.publish(Subjects.schedTimerCancel, `timer-cancel:${id}`, request, stepHeaders(draft.record));
    }
    delete step.timerIds;
  }

  /** Ends a wait: its timeout timer cancelled and (event waits) its entry removed from the waits index. */
  private closeWait(draft: Draft, step: StepRecord): void {
    if (step.wait?.kind === 'event' && step.wait.indexKey) {
      draft.publish(
        `$KV.${KvBuckets.WAITS}.${step.wait.indexKey}`,
        `wait-done:${step.wait.indexKey}:${step.attempt}`,
        null,
        { [KV_OPERATION]: 'DEL' },
      );
    }
    this.cancelTimers(draft, step);
    delete step.wait;
  }

  private circuit(draft: Draft, action: string, status: 'completed' | 'failed'): void {
    if (!this.options.circuits) return;
    draft.circuit.push({ action, outcome: status === 'completed' ? 'success' : 'failure' });
  }

  private recordStale(
    draft: Draft,
    previous: ExecutionRecord,
    current: StepRecord | undefined,
    result: TaskResult,
  ): ExecutionRecord | null {
    const key = `${result.taskId}:${result.status}`;
    if (previous.ignored?.includes(key)) return null;
    draft.record.ignored = [...(previous.ignored ?? []), key].slice(-MAX_IGNORED_REMEMBERED);
    draft.event(HistoryEventType.STALE_RESULT_IGNORED, {
      stepId: result.stepId,
      attempt: result.attempt,
      data: {
        taskId: result.taskId,
        status: result.status,
        ...(result.status === 'completed' && result.output !== undefined ? { output: result.output } : {}),
        reason: current === undefined ? 'unknown step' : staleReason(draft.record, current, result),
      },
    });
    return this.finish(draft);
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

  // ---------------------------------------------------------------------------------------------------
  // Closing a transition

  /** Closes a transition and serialises it once; a record over the size bound fails the execution. */
  private finish(draft: Draft): ExecutionRecord {
    return this.finishSync(draft);
  }

  private finishSync(draft: Draft): ExecutionRecord {
    const record = this.close(draft);
    const json = JSON.stringify(record);
    if (Buffer.byteLength(json) <= this.options.maxStateBytes || isTerminalExecutionStatus(record.status)) {
      serialized.set(record, json);
      if (draft.circuit.length > 0) circuitEffects.set(record, draft.circuit);
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

  /** Closes a transition: status, revision, history batch and completion notice into the outbox. */
  private close(draft: Draft): ExecutionRecord {
    const record = draft.record;
    if (record.status === ExecutionStatus.RUNNING || record.status === ExecutionStatus.WAITING) {
      record.status =
        record.parked || onlyWaiting(record) ? ExecutionStatus.WAITING : ExecutionStatus.RUNNING;
    }
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
        msgId: record.reruns ? `finished:${record.id}:${record.reruns}` : `finished:${record.id}`,
        body: notice,
        headers: { 'Baton-Execution-Id': record.id, 'Baton-Workflow-Id': record.workflowId },
      });
    }
    if (record.trace) {
      for (const entry of newOutbox) {
        if (entry.headers?.[KV_OPERATION]) continue;
        entry.headers = { ...record.trace, ...(entry.headers ?? {}) };
      }
    }
    record.outbox = newOutbox;
    return record;
  }
}

/** An entry of the event waits index (KV bucket `baton_waits`, key `<executionId>.<stepId>`). */
export interface EventWaitEntry {
  executionId: string;
  workflowId: string;
  stepId: string;
  attempt: number;
  subject: string;
  condition?: unknown;
  /** Events published from then on match. */
  since: string;
  timeoutAt?: string;
}

/** Longest `wait {seconds}`: one year. */
const MAX_WAIT_SECONDS = 366 * 24 * 3600;
/** A heartbeat moves a RUNNING attempt's deadline at most once a second. */
const HEARTBEAT_WRITE_INTERVAL_MS = 1_000;

function isLiveAttempt(record: ExecutionRecord, step: StepRecord, taskId: string | undefined): boolean {
  return (
    !isTerminalExecutionStatus(record.status) &&
    record.status !== ExecutionStatus.COMPENSATING &&
    (step.status === StepStatus.SCHEDULED || step.status === StepStatus.RUNNING) &&
    step.taskId !== undefined &&
    step.taskId === taskId &&
    !step.retryAt &&
    !step.wait
  );
}

/** Nothing more is scheduled: the execution is over, parked, or compensating. */
function halted(record: ExecutionRecord): boolean {
  return (
    isTerminalExecutionStatus(record.status) ||
    record.parked !== undefined ||
    record.status === ExecutionStatus.COMPENSATING
  );
}

function isBusinessError(stepDef: StepDefinition, error: TaskResult['error']): boolean {
  if (!error) return false;
  return error.nonRetryable === true || (stepDef.retryPolicy?.nonRetryableErrors ?? []).includes(error.type);
}

function isValidationError(error: ErrorInfo): boolean {
  return error.type === ErrorCode.VALIDATION_FAILED || error.type === ErrorCode.EXPRESSION_FAILED;
}

/** Headers of every message about an execution (and step). */
function stepHeaders(record: ExecutionRecord, stepId?: string): Record<string, string> {
  return {
    'Baton-Execution-Id': record.id,
    'Baton-Workflow-Id': record.workflowId,
    ...(stepId ? { 'Baton-Step-Id': stepId } : {}),
  };
}

/** Whether every step in flight is a wait: the execution is WAITING (it costs no worker). */
function onlyWaiting(record: ExecutionRecord): boolean {
  let any = false;
  for (const step of Object.values(record.steps)) {
    if (step.status !== StepStatus.SCHEDULED && step.status !== StepStatus.RUNNING) continue;
    if (!step.wait) return false;
    any = true;
  }
  return any;
}

/** The DAG's view of the steps: a failed step whose policy said `continue` counts as completed. */
function dagView(record: ExecutionRecord): Record<string, StepView> {
  let view: Record<string, StepView> | undefined;
  for (const [id, step] of Object.entries(record.steps)) {
    if (!step.continued) continue;
    view ??= { ...record.steps };
    view[id] = { status: StepStatus.COMPLETED };
  }
  return view ?? record.steps;
}

/** Completed steps with a compensation, latest completion first. */
function compensationOrder(def: WorkflowDefinition, record: ExecutionRecord): StepDefinition[] {
  return def.steps
    .filter((s) => {
      const step = record.steps[s.id];
      return (
        s.compensation !== undefined &&
        (step.status === StepStatus.COMPLETED || step.status === StepStatus.COMPENSATED) &&
        !step.continued
      );
    })
    .sort((a, b) => (record.steps[b.id].completedSeq ?? 0) - (record.steps[a.id].completedSeq ?? 0));
}

/** Mutable copy of a record for one transition, collecting history events and outgoing messages. */
class Draft {
  readonly record: ExecutionRecord;
  readonly events: HistoryEvent[] = [];
  readonly outbox: OutboxEntry[] = [];
  /** Attempt outcomes for the circuit breaker, reported once the transition is written. */
  readonly circuit: { action: string; outcome: 'success' | 'failure' }[] = [];
  private readonly wasTerminal: boolean;
  private forced = false;

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
    return (this.forced || !this.wasTerminal) && isTerminalExecutionStatus(this.record.status);
  }

  /** The execution ends again (a terminated FAILED execution): publish its completion notice anew. */
  forceFinishNotice(): void {
    this.forced = true;
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
