import { Controller, Inject } from '@nestjs/common';

import { BatonError, Durables, ErrorCode, Streams, Subjects } from '@baton/contracts';
import { ScheduleRepository } from '@baton/persistence';
import { JetStreamConsumer } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

/** Execution ids of schedule fires start with this (see `scheduleExecutionId`). */
const SCHEDULE_EXECUTION_PREFIX = 'cron-';
/**
 * Deliveries of a finished schedule execution that no schedule mentions before it is let go. The execution
 * can finish before the claim transaction that started it commits its id; a few redeliveries (250 ms,
 * 500 ms, 1 s, 2 s) outlast that commit. Executions of deleted schedules are let go after them.
 */
export const FINISHED_MATCH_ATTEMPTS = 5;

/**
 * Completion notifications (`BATON_EVENTS`, durable `scheduler-executions`, subject
 * `baton.events.execution.<workflowId>.<status>`): a schedule with overlap `skip` that tracked the finished
 * execution as running may fire again. No synchronous call to the orchestrator is made; the notification is
 * the only source.
 */
@Controller()
export class ExecutionFinishedHandler {
  constructor(@Inject(ScheduleRepository) private readonly repository: ScheduleRepository) {}

  @JetStreamConsumer({
    stream: Streams.NOTIFY,
    durable: Durables.SCHEDULER_EXECUTIONS,
    filterSubject: Subjects.executionFinishedAll,
    deliverPolicy: 'new',
    concurrency: 32,
    ackWaitMs: 10_000,
    maxDeliver: FINISHED_MATCH_ATTEMPTS + 5,
    // Every execution's notice comes here, and only schedule fires matter: batched delivery (ADR 0027)
    // keeps that off the execution path's CPU; a schedule fires again at most 100 ms later.
    lingerMs: 100,
  })
  async handle(data: unknown, ctx: JetStreamContext): Promise<void> {
    const executionId =
      typeof data === 'object' && data !== null ? (data as { executionId?: unknown }).executionId : undefined;
    if (typeof executionId !== 'string' || !executionId.startsWith(SCHEDULE_EXECUTION_PREFIX)) return;
    const outcome = await this.repository.executionFinished(executionId);
    if (outcome === 'unknown' && ctx.deliveryCount < FINISHED_MATCH_ATTEMPTS) {
      throw new BatonError(
        ErrorCode.UNAVAILABLE,
        `no schedule tracks execution ${executionId} yet; looking again`,
        { retryable: true },
      );
    }
  }
}
