import { Controller, Inject } from '@nestjs/common';

import {
  BatonError,
  Durables,
  ErrorCode,
  Headers,
  PROTOCOL_VERSION,
  Streams,
  Subjects,
  isSubjectToken,
} from '@baton/contracts';
import type { TaskMessage, TaskResult } from '@baton/contracts';
import { JetStreamConsumer, JetStreamPublisher } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

import type { Decision } from '../rules/rule-set';
import { RulesService } from '../rules/rules.service';

/**
 * Decision steps by choreography: the orchestrator publishes a decision request (a `TaskMessage` whose
 * `action` is the rule category and whose `input` holds the facts) on `baton.decisions.<category>`; this
 * consumer evaluates the category's enabled rules and publishes the result to the request's `replyTo` like
 * a worker would: `{ outcome, rules, evaluated }` (CONTRACT §3.2; {@link decisionOutput}), msg id `result:<taskId>`, then acks.
 */
@Controller()
export class DecisionsHandler {
  constructor(
    @Inject(RulesService) private readonly rules: RulesService,
    @Inject(JetStreamPublisher) private readonly publisher: JetStreamPublisher,
  ) {}

  @JetStreamConsumer({
    stream: Streams.DECISIONS,
    durable: Durables.RULE_ENGINE_DECISIONS,
    filterSubject: Subjects.decisionsAll,
    concurrency: 64,
    ackWaitMs: 30_000,
    maxDeliver: 100,
  })
  async handle(data: unknown, ctx: JetStreamContext): Promise<void> {
    const request = parseRequest(data);
    const startedAt = new Date().toISOString();
    let result: TaskResult;
    try {
      const decision = await this.rules.evaluate({
        category: request.action,
        facts: request.input ?? {},
        ...(request.rulesAsOf !== undefined ? { asOf: request.rulesAsOf } : {}),
      });
      result = {
        ...resultBase(request, startedAt),
        status: 'completed',
        output: decisionOutput(decision, request.rulesAsOf),
      };
    } catch (err) {
      // A request the rules can never decide (bad facts) fails the step; anything else is retried.
      if (!(err instanceof Error) || (err as BatonError).retryable !== false) throw err;
      const failure = err as BatonError;
      result = {
        ...resultBase(request, startedAt),
        status: 'failed',
        error: {
          type: failure.code ?? ErrorCode.VALIDATION_FAILED,
          message: failure.message,
          nonRetryable: true,
        },
      };
    }
    const trace = ctx.header(Headers.TRACEPARENT);
    await this.publisher.publish(request.replyTo, result, {
      msgId: `result:${request.taskId}`,
      headers: {
        [Headers.EXECUTION_ID]: request.executionId,
        ...(trace ? { [Headers.TRACEPARENT]: trace } : {}),
      },
    });
  }
}

/**
 * A decision step's output (CONTRACT §3.2): the outcome, the rules that fired (highest priority first) with
 * the versions used, how many rules were evaluated, and the time the category was taken at when pinned.
 * The rules that did not fire are left out: with `rulesAsOf` they are known exactly (the category as of
 * that time), and carrying every evaluated rule would copy the whole category into the execution's state,
 * history and completion notice on every decision.
 */
export function decisionOutput(decision: Decision, rulesAsOf: string | undefined): Record<string, unknown> {
  return {
    outcome: decision.outcome,
    rules: decision.rules
      .filter((r) => r.satisfied)
      .map((r) => ({ id: r.id, version: r.version, priority: r.priority, event: r.event })),
    evaluated: decision.rules.length,
    ...(rulesAsOf !== undefined ? { rulesAsOf } : {}),
  };
}

function resultBase(request: TaskMessage, startedAt: string): Omit<TaskResult, 'status'> {
  return {
    protocol: PROTOCOL_VERSION,
    taskId: request.taskId,
    executionId: request.executionId,
    stepId: request.stepId,
    attempt: request.attempt,
    workerId: 'rule-engine',
    startedAt,
    finishedAt: new Date().toISOString(),
  };
}

/** The fields this handler relies on; a request without them can never be answered (dead letter). */
export function parseRequest(data: unknown): TaskMessage {
  const r = data as Partial<TaskMessage> | null;
  const problems: string[] = [];
  if (typeof r !== 'object' || r === null) throw invalid(['request must be an object']);
  if (typeof r.taskId !== 'string' || r.taskId.length === 0) problems.push('taskId');
  if (!isSubjectToken(r.executionId)) problems.push('executionId');
  if (typeof r.stepId !== 'string' || r.stepId.length === 0) problems.push('stepId');
  if (typeof r.attempt !== 'number' || !Number.isInteger(r.attempt) || r.attempt < 1)
    problems.push('attempt');
  if (!isSubjectToken(r.action)) problems.push('action (rule category)');
  if (typeof r.replyTo !== 'string' || !r.replyTo.startsWith('baton.orch.result.')) problems.push('replyTo');
  if (r.input !== undefined && (typeof r.input !== 'object' || r.input === null || Array.isArray(r.input))) {
    problems.push('input (facts object)');
  }
  if (
    r.rulesAsOf !== undefined &&
    (typeof r.rulesAsOf !== 'string' || Number.isNaN(Date.parse(r.rulesAsOf)))
  ) {
    problems.push('rulesAsOf (ISO date-time)');
  }
  if (problems.length > 0) throw invalid(problems.map((p) => `missing or invalid ${p}`));
  return r as TaskMessage;
}

function invalid(problems: string[]): BatonError {
  return new BatonError(ErrorCode.VALIDATION_FAILED, `malformed decision request: ${problems.join('; ')}`, {
    retryable: false,
  });
}
