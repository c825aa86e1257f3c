import { Controller, Inject } from '@nestjs/common';

import { JetStreamConsumer } from '@baton/transport-jetstream';
import type { JetStreamContext } from '@baton/transport-jetstream';

import { ANALYTICS_CONSUMER } from './analytics.consumer';
import { AnalyticsService } from './analytics.service';

/** Consumer `telemetry-history` (BATON_HISTORY, `baton.history.>`). Acks once the batch is committed. */
@Controller()
export class AnalyticsHandler {
  constructor(@Inject(AnalyticsService) private readonly analytics: AnalyticsService) {}

  @JetStreamConsumer(ANALYTICS_CONSUMER)
  async handle(data: unknown, ctx: JetStreamContext): Promise<void> {
    await this.analytics.ingest(data, ctx.subject);
  }
}
