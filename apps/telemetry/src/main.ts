// First: tracing must be set up before any instrumented module loads.
import './instrumentation';

import { Durables } from '@baton/contracts';
import { deliveriesForGroups } from '@baton/persistence';
import { runService } from '@baton/service-kit';
import { DEFAULT_MAX_ACK_PENDING } from '@baton/transport-jetstream';

import { telemetryEnvSchema } from './config/telemetry.config';
import { telemetry } from './instrumentation';
import { TELEMETRY_STREAMS, TelemetryModule } from './telemetry.module';
import { TELEMETRY_SERVICE } from './service.descriptor';

void runService({
  service: TELEMETRY_SERVICE,
  module: TelemetryModule,
  envSchema: telemetryEnvSchema,
  transport: true,
  consumerOverrides: (config) => ({
    [Durables.TELEMETRY_HISTORY]: {
      concurrency: deliveriesForGroups(
        config.BATON_ANALYTICS_GROUP_SIZE,
        config.BATON_ANALYTICS_GROUP_CONCURRENCY,
        DEFAULT_MAX_ACK_PENDING,
      ),
      lingerMs: config.BATON_ANALYTICS_LINGER_MS,
    },
  }),
  streams: TELEMETRY_STREAMS,
  telemetry,
});
