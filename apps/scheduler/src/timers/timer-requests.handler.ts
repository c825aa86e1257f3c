import { Controller, Inject } from '@nestjs/common';

import { Durables, Streams, Subjects, validationError } from '@baton/contracts';
import { JetStreamConsumer } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

import { TimersService } from './timers.service';

/**
 * The orchestrator's timer requests (`BATON_SCHED`, durable `scheduler-requests`): `baton.sched.timers.set`
 * creates a timer idempotently by its id (a redelivered or re-published request creates nothing new, and
 * a timer already fired or cancelled stays so), `baton.sched.timers.cancel` cancels a pending one. Acked
 * only after the database commit; malformed requests are dead-lettered with the reason (ADR 0016).
 */
@Controller()
export class TimerRequestsHandler {
  constructor(@Inject(TimersService) private readonly timers: TimersService) {}

  @JetStreamConsumer({
    stream: Streams.SCHED,
    durable: Durables.SCHEDULER_REQUESTS,
    filterSubject: Subjects.schedAll,
    concurrency: 64,
    ackWaitMs: 10_000,
    maxDeliver: 20,
  })
  async handle(data: unknown, ctx: JetStreamContext): Promise<void> {
    if (ctx.subject === Subjects.schedTimerSet) {
      await this.timers.createFromRequest(data);
      return;
    }
    if (ctx.subject === Subjects.schedTimerCancel) {
      await this.timers.cancelFromRequest(data);
      return;
    }
    throw validationError(`no handler for subject ${ctx.subject}`, [
      { path: '/subject', message: `must be ${Subjects.schedTimerSet} or ${Subjects.schedTimerCancel}` },
    ]);
  }
}
