import { telemetry } from './instrumentation';

import { Durables } from '@baton/contracts';
import { runService } from '@baton/service-kit';

import { orchestratorEnvSchema } from './config/orchestrator.config';
import { ORCHESTRATOR_SERVICE, ORCHESTRATOR_STREAMS, OrchestratorModule } from './orchestrator.module';

void runService({
  service: ORCHESTRATOR_SERVICE,
  module: OrchestratorModule,
  envSchema: orchestratorEnvSchema,
  transport: true,
  consumerOverrides: (config) => ({
    [Durables.ORCHESTRATOR]: { concurrency: config.BATON_ORCH_CONCURRENCY },
    [Durables.ORCHESTRATOR_TRIGGERS]: { concurrency: config.BATON_TRIGGER_CONCURRENCY },
  }),
  streams: ORCHESTRATOR_STREAMS,
  telemetry,
});
