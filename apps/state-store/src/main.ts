import { telemetry } from './instrumentation';

import { runService } from '@baton/service-kit';
import { BATON_STREAMS } from '@baton/transport-jetstream';

import { stateStoreEnvSchema } from './config/state-store.config';
import { StateStoreModule } from './state-store.module';
import { STATE_STORE_SERVICE } from './state-store.descriptor';

void runService({
  service: { ...STATE_STORE_SERVICE },
  module: StateStoreModule,
  envSchema: stateStoreEnvSchema,
  transport: true,
  streams: [BATON_STREAMS.HISTORY, BATON_STREAMS.DLQ],
  telemetry,
});
