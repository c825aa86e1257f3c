import { telemetry } from './instrumentation';

import { Durables } from '@baton/contracts';
import { deliveriesForGroups } from '@baton/persistence';
import { runService } from '@baton/service-kit';
import { BATON_STREAMS, DEFAULT_MAX_ACK_PENDING } from '@baton/transport-jetstream';

import { stateStoreEnvSchema } from './config/state-store.config';
import { StateStoreModule } from './state-store.module';
import { STATE_STORE_SERVICE } from './state-store.descriptor';

void runService({
  service: { ...STATE_STORE_SERVICE },
  module: StateStoreModule,
  envSchema: stateStoreEnvSchema,
  transport: true,
  consumerOverrides: (config) => ({
    [Durables.STATE_STORE_HISTORY]: {
      concurrency: deliveriesForGroups(
        config.BATON_HISTORY_GROUP_SIZE,
        config.BATON_HISTORY_GROUP_CONCURRENCY,
        DEFAULT_MAX_ACK_PENDING,
      ),
      lingerMs: config.BATON_HISTORY_LINGER_MS,
    },
  }),
  streams: [BATON_STREAMS.HISTORY, BATON_STREAMS.DLQ],
  telemetry,
});
