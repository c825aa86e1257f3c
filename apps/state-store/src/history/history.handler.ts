import { Controller, Inject } from '@nestjs/common';

import { JetStreamConsumer } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

import { HISTORY_CONSUMER } from './history.consumer';
import { HistoryService } from './history.service';

/** Consumer `state-store-history` (BATON_HISTORY, `baton.history.>`). Acks once the batch is committed. */
@Controller()
export class HistoryHandler {
  constructor(@Inject(HistoryService) private readonly history: HistoryService) {}

  @JetStreamConsumer(HISTORY_CONSUMER)
  async handle(data: unknown, ctx: JetStreamContext): Promise<void> {
    await this.history.ingest(data, ctx.subject);
  }
}
