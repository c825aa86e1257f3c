import { Controller, Inject } from '@nestjs/common';

import { Durables, Streams, Subjects } from '@baton/contracts';
import { JetStreamConsumer } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

import { EventWaitsIndex, storedAt } from './event-waits';
import { ExecutionsService } from './executions.service';

/** Default concurrency of the trigger consumer; `BATON_TRIGGER_CONCURRENCY` overrides it at start. */
export const TRIGGER_CONCURRENCY = 64;

/**
 * Users' events (`EVENTS`, `events.>`): every registered workflow whose trigger matches starts, once per
 * event (or per trigger key), and every `wait {event}` step the event satisfies is completed (through the
 * waits index). Malformed or oversized events are dead-lettered by the transport, once.
 */
@Controller()
export class TriggersHandler {
  constructor(
    @Inject(ExecutionsService) private readonly executions: ExecutionsService,
    @Inject(EventWaitsIndex) private readonly waits: EventWaitsIndex,
  ) {}

  @JetStreamConsumer({
    stream: Streams.EVENTS,
    durable: Durables.ORCHESTRATOR_TRIGGERS,
    filterSubject: Subjects.eventsAll,
    concurrency: TRIGGER_CONCURRENCY,
    ackWaitMs: 10_000,
    maxDeliver: 20,
    deliverPolicy: 'new',
  })
  async handle(data: unknown, ctx: JetStreamContext): Promise<void> {
    await this.executions.startFromEvent(
      {
        subject: ctx.subject,
        payload: data,
        streamSequence: ctx.streamSequence,
        ...(ctx.msgId ? { msgId: ctx.msgId } : {}),
      },
      ctx.headers(),
    );
    if (this.waits.size > 0) {
      await this.waits.match({
        subject: ctx.subject,
        payload: data,
        streamSequence: ctx.streamSequence,
        storedAtMs: storedAt(ctx.message),
      });
    }
  }
}
