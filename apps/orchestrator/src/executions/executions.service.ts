import { Inject, Injectable, Logger } from '@nestjs/common';

import {
  BatonError,
  ErrorCode,
  Headers,
  PROTOCOL_VERSION,
  StepStatus,
  StepType,
  Subjects,
  assertSubjectToken,
  isTerminalExecutionStatus,
  randomId,
} from '@baton/contracts';
import type {
  ErrorInfo,
  ExecutionSignal,
  OrchestratorEventMatch,
  OrchestratorTimer,
  StartExecutionCommand,
  TaskHeartbeat,
  TaskResult,
  WorkflowDefinition,
} from '@baton/contracts';

import { inExecutionSpan } from '@baton/telemetry';
import type { CompiledCondition } from '@baton/workflow';

import { WorkflowRegistry } from '../definitions/workflow-registry';
import type { TriggerMatch } from '../definitions/workflow-registry';
import type { OrchestratorMetrics } from '../orchestrator.metrics';
import { EXPRESSION_EVALUATOR, ORCHESTRATOR_METRICS, OUTBOX_PUBLISHER } from '../orchestrator.tokens';
import { MAX_BUFFERED_SIGNALS, decodeTaskToken } from './execution-engine';
import type { TemplateEvaluator } from './execution-engine';
import { ExecutionRunner } from './execution-runner';
import type { OutboxPublisher, Transitioned } from './execution-runner';
import type { ExecutionRecord } from './execution.model';
import { parseWith, signalNameSchema } from './inbound-messages';
import { startFromTrigger } from './trigger-matcher';
import type { InboundEvent } from './trigger-matcher';

export interface StartRequest {
  input?: unknown;
  executionId?: string;
  version?: number;
}

/** Public view of an execution (the record without internal fields). */
export interface ExecutionView {
  executionId: string;
  workflowId: string;
  version: number;
  status: string;
  input: unknown;
  output?: unknown;
  error?: unknown;
  cause: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  revision: number;
  /** Set when an operator must act: a compensation failed, or an error policy escalated. */
  attention?: { reason: string; stepId?: string; at: string };
  /** Signals received that no step has taken yet, by name. */
  pendingSignals?: Record<string, number>;
  steps: Record<
    string,
    {
      status: string;
      attempt: number;
      input?: unknown;
      output?: unknown;
      error?: unknown;
      scheduledAt?: string;
      finishedAt?: string;
      /** The next attempt is due then (retry backoff or an open circuit). */
      retryAt?: string;
      deadlineAt?: string;
      /** What a wait step waits for. */
      waitingFor?: { kind: string; until?: string; signal?: string; subject?: string; timeoutAt?: string };
      /** The routed candidate of the current attempt. */
      action?: string;
      compensation?: { status: string; attempt: number; error?: unknown };
    }
  >;
}

/** Use cases of executions: start (API, command, event), results, human tasks, reads. */
@Injectable()
export class ExecutionsService {
  private readonly logger = new Logger(ExecutionsService.name);

  constructor(
    @Inject(ExecutionRunner) private readonly runner: ExecutionRunner,
    @Inject(WorkflowRegistry) private readonly registry: WorkflowRegistry,
    @Inject(EXPRESSION_EVALUATOR) private readonly evaluator: TemplateEvaluator,
    @Inject(OUTBOX_PUBLISHER) private readonly publisher: OutboxPublisher,
    @Inject(ORCHESTRATOR_METRICS) private readonly metrics: OrchestratorMetrics,
  ) {}

  /** `POST /v1/workflows/:id/executions`: idempotent by `executionId`. */
  async startFromApi(
    workflowId: string,
    request: StartRequest,
    headers: Record<string, string[]> = {},
  ): Promise<{ executionId: string; created: boolean; status: string }> {
    const def = await this.definition(workflowId, request.version);
    const executionId =
      request.executionId === undefined ? randomId() : assertSubjectToken(request.executionId, 'executionId');
    const { record, created } = await inExecutionSpan(
      { executionId, workflowId: def.id, version: def.version, cause: 'api', inbound: traceOf(headers) },
      (trace) => this.runner.start(def, { executionId, input: request.input ?? {}, cause: 'api', trace }),
    );
    if (!created) this.assertSameWorkflow(record, def, request.version);
    else this.metrics.started(record);
    this.observe(record);
    return { executionId, created, status: record.status };
  }

  /** A start command from `baton.orch.start.<workflowId>`. */
  async startFromCommand(command: StartExecutionCommand, headers: Record<string, string[]>): Promise<void> {
    const def = await this.definition(command.workflowId, command.version);
    const { record, created } = await inExecutionSpan(
      {
        executionId: command.executionId,
        workflowId: def.id,
        version: def.version,
        cause: command.cause,
        inbound: traceOf(headers),
      },
      (trace) =>
        this.runner.start(def, {
          executionId: command.executionId,
          input: command.input,
          cause: command.cause,
          trace,
        }),
    );
    if (created) {
      this.metrics.started(record);
      this.observe(record);
    }
  }

  /** An event from `EVENTS`: starts every workflow whose trigger matches. */
  async startFromEvent(event: InboundEvent, headers: Record<string, string[]>): Promise<void> {
    const matches = this.registry.triggersFor(event.subject);
    for (const match of matches) {
      if (match.condition && !(await this.conditionHolds(match, match.condition, event))) continue;
      const start = await startFromTrigger(this.evaluator, match.workflow, match.trigger, match.index, event);
      const cause = `event:${event.subject}#${event.streamSequence}`;
      const { record, created } = await inExecutionSpan(
        {
          executionId: start.executionId,
          workflowId: match.workflow.id,
          version: match.workflow.version,
          cause,
          inbound: traceOf(headers),
        },
        (trace) =>
          this.runner.start(match.workflow, {
            executionId: start.executionId,
            input: start.input,
            cause,
            trace,
            ...(start.error ? { error: start.error } : {}),
          }),
      );
      if (created) {
        this.metrics.started(record);
        this.observe(record);
        if (start.error) {
          this.logger.warn(
            { execution_id: record.id, workflow_id: record.workflowId, subject: event.subject },
            `trigger failed: ${start.error.message}`,
          );
        }
      }
    }
  }

  /**
   * Whether an event trigger's condition holds for `event` (facts `{ event, subject }`). A condition that
   * cannot be evaluated for this event (a fact of an unexpected shape) does not hold; that is logged.
   */
  private async conditionHolds(
    match: TriggerMatch,
    condition: CompiledCondition,
    event: InboundEvent,
  ): Promise<boolean> {
    try {
      const holds = await condition.holds({ event: event.payload, subject: event.subject });
      if (!holds) this.metrics.triggerSkipped(match.workflow.id);
      return holds;
    } catch (err) {
      this.metrics.triggerSkipped(match.workflow.id);
      this.logger.warn(
        { workflow_id: match.workflow.id, subject: event.subject, err },
        `trigger ${match.index} condition could not be evaluated; the event does not start ${match.workflow.id}`,
      );
      return false;
    }
  }

  /** A worker's result (or a human task's). */
  async applyResult(result: TaskResult): Promise<void> {
    await this.observed(() => this.runner.applyResult(result));
  }

  /** A fired scheduler timer. */
  async applyTimer(timer: OrchestratorTimer): Promise<void> {
    await this.observed(() => this.runner.applyTimer(timer));
  }

  /** A worker's heartbeat for a running attempt. */
  async applyHeartbeat(heartbeat: TaskHeartbeat): Promise<void> {
    await this.observed(() => this.runner.applyHeartbeat(heartbeat));
  }

  /** A signal taken from the inbox (sent by {@link sendSignal}). */
  async applySignal(signal: ExecutionSignal): Promise<void> {
    await this.observed(() => this.runner.applySignal(signal));
  }

  /** An event matched to a waiting step. */
  async applyEventMatch(match: OrchestratorEventMatch): Promise<void> {
    await this.observed(() => this.runner.applyEventMatch(match));
  }

  /**
   * `POST /v1/executions/:id/signals/:name`: the signal is published to the orchestrator's inbox (stored,
   * de-duplicated by `signalId`) and applied from there, so it is kept even when no step waits yet.
   */
  async sendSignal(
    executionId: string,
    name: string,
    body: { payload?: unknown; signalId?: string },
  ): Promise<{ executionId: string; name: string; signalId: string }> {
    assertSubjectToken(executionId, 'executionId');
    parseWith(signalNameSchema, name, 'invalid signal name');
    const record = await this.runner.get(executionId);
    if (!record) {
      throw new BatonError(ErrorCode.NOT_FOUND, `execution ${executionId} not found`, { retryable: false });
    }
    if (isTerminalExecutionStatus(record.status)) {
      throw new BatonError(
        ErrorCode.CONFLICT,
        `execution ${executionId} is ${record.status}: it takes no more signals`,
        { retryable: false },
      );
    }
    if ((record.signals?.[name]?.length ?? 0) >= MAX_BUFFERED_SIGNALS) {
      throw new BatonError(
        ErrorCode.CONFLICT,
        `execution ${executionId} already keeps ${MAX_BUFFERED_SIGNALS} signals '${name}' that no step took`,
        { retryable: false },
      );
    }
    const signalId = body.signalId ?? randomId();
    const signal: ExecutionSignal = {
      executionId,
      name,
      signalId,
      ...(body.payload !== undefined ? { payload: body.payload } : {}),
      sentAt: new Date().toISOString(),
    };
    await this.publisher.publish(Subjects.signal(executionId), signal, {
      msgId: `signal:${executionId}:${signalId}`,
      headers: { [Headers.EXECUTION_ID]: executionId, ...(record.trace ?? {}) },
    });
    return { executionId, name, signalId };
  }

  /** `POST /v1/executions/:id/terminate`. */
  async terminate(executionId: string, reason: string): Promise<ExecutionView> {
    assertSubjectToken(executionId, 'executionId');
    const done = await this.observed(() => this.runner.terminate(executionId, reason));
    return viewOf((done as Transitioned).record);
  }

  /** `POST /v1/executions/:id/retry`. */
  async retry(executionId: string): Promise<ExecutionView> {
    assertSubjectToken(executionId, 'executionId');
    const done = await this.observed(() => this.runner.retry(executionId));
    return viewOf((done as Transitioned).record);
  }

  /** Runs a transition and records its metrics: transition time, steps that finished, the execution's end. */
  private async observed(run: () => Promise<Transitioned | undefined>): Promise<Transitioned | undefined> {
    const before = Date.now();
    const applied = await run();
    this.metrics.transition(Date.now() - before);
    if (!applied) return undefined;
    for (const stepDef of applied.definition.steps) {
      const step = applied.record.steps[stepDef.id];
      const was = applied.previous.steps[stepDef.id];
      if (!step || (step.status === was?.status && step.attempt === was.attempt)) continue;
      if (step.status !== StepStatus.COMPLETED && step.status !== StepStatus.FAILED) continue;
      const action = step.route?.action ?? stepDef.action;
      if (action && stepDef.type !== StepType.WAIT && stepDef.type !== StepType.EMIT) {
        this.metrics.stepFinished(action, step.status, step);
      }
    }
    if (applied.finishedNow) this.metrics.finished(applied.record);
    return applied;
  }

  async get(id: string): Promise<ExecutionView> {
    assertSubjectToken(id, 'executionId');
    const record = await this.runner.get(id);
    if (!record) throw new BatonError(ErrorCode.NOT_FOUND, `execution ${id} not found`, { retryable: false });
    return viewOf(record);
  }

  /** `POST /v1/tasks/:token/complete|fail`: publishes the result like a worker would. */
  async completeTask(
    token: string,
    outcome: { output?: unknown } | { error: ErrorInfo },
  ): Promise<{ taskId: string }> {
    const parsed = decodeTaskToken(token);
    const record = await this.runner.get(parsed.executionId);
    const step = record?.steps[parsed.stepId];
    if (!record || !step || step.nonce !== parsed.nonce || step.attempt !== parsed.attempt) {
      throw new BatonError(ErrorCode.NOT_FOUND, 'unknown or malformed task token', { retryable: false });
    }
    if (
      isTerminalExecutionStatus(record.status) ||
      (step.status !== StepStatus.SCHEDULED && step.status !== StepStatus.RUNNING)
    ) {
      throw new BatonError(ErrorCode.CONFLICT, `task ${step.taskId} is already ${step.status}`, {
        retryable: false,
      });
    }
    const taskId = step.taskId as string;
    const result: TaskResult = {
      protocol: PROTOCOL_VERSION,
      taskId,
      executionId: record.id,
      stepId: parsed.stepId,
      attempt: parsed.attempt,
      ...('error' in outcome
        ? { status: 'failed' as const, error: outcome.error }
        : { status: 'completed' as const, output: outcome.output }),
      workerId: 'http',
      finishedAt: new Date().toISOString(),
    };
    await this.publisher.publish(Subjects.result(record.id), result, {
      msgId: `result:${taskId}`,
      headers: { [Headers.EXECUTION_ID]: record.id, ...(record.trace ?? {}) },
    });
    return { taskId };
  }

  private async definition(workflowId: string, version?: number): Promise<WorkflowDefinition> {
    const registered = await this.registry.get(workflowId, version);
    if (!registered || (version === undefined && registered.deleted)) {
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        version === undefined
          ? `workflow ${workflowId} not found`
          : `workflow ${workflowId} version ${version} not found`,
        { retryable: false },
      );
    }
    if (registered.deleted) {
      throw new BatonError(ErrorCode.NOT_FOUND, `workflow ${workflowId} version ${version} was deleted`, {
        retryable: false,
      });
    }
    return registered.definition;
  }

  private assertSameWorkflow(record: ExecutionRecord, def: WorkflowDefinition, version?: number): void {
    if (record.workflowId !== def.id || (version !== undefined && record.version !== version)) {
      throw new BatonError(
        ErrorCode.CONFLICT,
        `execution ${record.id} already exists for workflow ${record.workflowId} version ${record.version}`,
        { retryable: false },
      );
    }
  }

  private observe(record: ExecutionRecord): void {
    if (isTerminalExecutionStatus(record.status)) this.metrics.finished(record);
  }
}

function traceOf(headers: Record<string, string[]>): Record<string, string> {
  const trace: Record<string, string> = {};
  for (const name of [Headers.TRACEPARENT, Headers.TRACESTATE]) {
    const value = headers[name]?.[0];
    if (value) trace[name] = value;
  }
  return trace;
}

export function viewOf(record: ExecutionRecord): ExecutionView {
  const steps: ExecutionView['steps'] = {};
  for (const [id, step] of Object.entries(record.steps)) {
    steps[id] = {
      status: step.status,
      attempt: step.attempt,
      ...(step.input !== undefined ? { input: step.input } : {}),
      ...(step.output !== undefined ? { output: step.output } : {}),
      ...(step.error ? { error: step.error } : {}),
      ...(step.scheduledAt ? { scheduledAt: step.scheduledAt } : {}),
      ...(step.finishedAt ? { finishedAt: step.finishedAt } : {}),
      ...(step.retryAt ? { retryAt: step.retryAt } : {}),
      ...(step.deadlineAt ? { deadlineAt: step.deadlineAt } : {}),
      ...(step.wait
        ? {
            waitingFor: {
              kind: step.wait.kind,
              ...(step.wait.until ? { until: step.wait.until } : {}),
              ...(step.wait.signal ? { signal: step.wait.signal } : {}),
              ...(step.wait.subject ? { subject: step.wait.subject } : {}),
              ...(step.wait.timeoutAt ? { timeoutAt: step.wait.timeoutAt } : {}),
            },
          }
        : {}),
      ...(step.route ? { action: step.route.action } : {}),
      ...(step.compensation
        ? {
            compensation: {
              status: step.compensation.status,
              attempt: step.compensation.attempt,
              ...(step.compensation.error ? { error: step.compensation.error } : {}),
            },
          }
        : {}),
    };
  }
  const pending: Record<string, number> = {};
  for (const [name, kept] of Object.entries(record.signals ?? {})) pending[name] = kept.length;
  return {
    executionId: record.id,
    workflowId: record.workflowId,
    version: record.version,
    status: record.status,
    input: record.input,
    ...(record.output !== undefined ? { output: record.output } : {}),
    ...(record.error ? { error: record.error } : {}),
    cause: record.cause,
    startedAt: record.startedAt,
    updatedAt: record.updatedAt,
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    revision: record.revision,
    ...(record.attention ? { attention: record.attention } : {}),
    ...(Object.keys(pending).length > 0 ? { pendingSignals: pending } : {}),
    steps,
  };
}
