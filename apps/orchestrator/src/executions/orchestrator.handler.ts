import { Controller, Inject } from '@nestjs/common';

import { BatonError, Durables, ErrorCode, Streams, Subjects } from '@baton/contracts';
import { JetStreamConsumer } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

import { ExecutionsService } from './executions.service';
import { parseStartCommand, parseTaskResult } from './inbound-messages';

/** Default concurrency of the inbox consumer; `BATON_ORCH_CONCURRENCY` overrides it at start (main.ts). */
export const ORCH_CONCURRENCY = 256;

/**
 * The orchestrator's inbox (`BATON_ORCH`): task results from workers and start commands from the API,
 * schedules and parents. Acked only after the resulting state is written and its messages published.
 */
@Controller()
export class OrchestratorHandler {
  constructor(@Inject(ExecutionsService) private readonly executions: ExecutionsService) {}

  @JetStreamConsumer({
    stream: Streams.ORCH,
    durable: Durables.ORCHESTRATOR,
    filterSubject: Subjects.orchAll,
    concurrency: ORCH_CONCURRENCY,
    ackWaitMs: 10_000,
    maxDeliver: 20,
  })
  async handle(data: unknown, ctx: JetStreamContext): Promise<void> {
    const [, , kind, id] = ctx.subject.split('.');
    if (kind === 'result' && id) {
      await this.executions.applyResult(parseTaskResult(data, id));
      return;
    }
    if (kind === 'start' && id) {
      await this.executions.startFromCommand(parseStartCommand(data, id), ctx.headers());
      return;
    }
    throw new BatonError(ErrorCode.VALIDATION_FAILED, `no handler for subject ${ctx.subject}`, {
      retryable: false,
    });
  }
}
