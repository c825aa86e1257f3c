import { Controller, Inject } from '@nestjs/common';

import type { Counter } from 'prom-client';

import { DeadLetterRepository } from '@baton/persistence';
import { MetricsService } from '@baton/service-kit';
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
  private readonly recorded: Counter<'stream' | 'consumer'>;

  constructor(
    @Inject(DeadLetterRepository) private readonly deadLetters: Pick<DeadLetterRepository, 'record'>,
    @Inject(MetricsService) metrics: Pick<MetricsService, 'counter'>,
  ) {
    this.recorded = metrics.counter(
      'dead_letters_recorded_total',
      'Dead letters recorded, by origin stream and the consumer that gave up',
      ['stream', 'consumer'],
    );
  }

  @JetStreamConsumer(DLQ_CONSUMER)
  async handle(data: unknown): Promise<void> {
    let created: boolean;
    try {
      created = await this.deadLetters.record(data as Record<string, unknown>);
    } catch (err) {
      throw toConsumerError(err);
    }
    if (created) {
      const { stream, consumer } = data as { stream: string; consumer: string };
      this.recorded.inc({ stream, consumer });
    }
  }
}
