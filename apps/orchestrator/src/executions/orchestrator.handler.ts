import { Controller, Inject } from '@nestjs/common';

import { BatonError, Durables, ErrorCode, Streams, Subjects } from '@baton/contracts';
import { JetStreamConsumer } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

import { ExecutionsService } from './executions.service';
import {
  parseEventMatch,
  parseHeartbeat,
  parseSignal,
  parseStartCommand,
  parseTaskResult,
  parseTimer,
} from './inbound-messages';

/** Default concurrency of the inbox consumer; `BATON_ORCH_CONCURRENCY` overrides it at start (main.ts). */
export const ORCH_CONCURRENCY = 256;

/**
 * The orchestrator's inbox (`BATON_ORCH`): task results and heartbeats from workers, start commands from
 * the API, schedules and parents, fired timers from the scheduler, signals, and events matched to waits. Acked only after the resulting state is written and its messages published.
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
    if (kind === 'timer' && id) {
      await this.executions.applyTimer(parseTimer(data, id));
      return;
    }
    if (kind === 'heartbeat' && id) {
      await this.executions.applyHeartbeat(parseHeartbeat(data, id));
      return;
    }
    if (kind === 'signal' && id) {
      await this.executions.applySignal(parseSignal(data, id));
      return;
    }
    if (kind === 'event' && id) {
      await this.executions.applyEventMatch(parseEventMatch(data, id));
      return;
    }
    throw new BatonError(ErrorCode.VALIDATION_FAILED, `no handler for subject ${ctx.subject}`, {
      retryable: false,
    });
  }
}
