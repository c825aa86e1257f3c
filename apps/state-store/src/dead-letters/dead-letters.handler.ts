import { Controller, Inject } from '@nestjs/common';

import { DeadLetterRepository } from '@baton/persistence';
import { JetStreamConsumer } from '@baton/transport-jetstream';

import { DLQ_CONSUMER } from '../history/history.consumer';
import { toConsumerError } from '../history/history.service';

/**
 * Consumer `state-store-dlq` (BATON_DLQ, `baton.dlq.>`): records each dead letter in `dead_letters`,
 * idempotently by origin `(stream, streamSequence)`. Acks once stored; a malformed record is terminated
 * (it stays in BATON_DLQ); database failures are redelivered.
 */
@Controller()
export class DeadLettersHandler {
  constructor(
    @Inject(DeadLetterRepository) private readonly deadLetters: Pick<DeadLetterRepository, 'record'>,
  ) {}

  @JetStreamConsumer(DLQ_CONSUMER)
  async handle(data: unknown): Promise<void> {
    try {
      await this.deadLetters.record(data as Record<string, unknown>);
    } catch (err) {
      throw toConsumerError(err);
    }
  }
}
