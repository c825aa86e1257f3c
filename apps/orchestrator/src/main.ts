import { telemetry } from './instrumentation';

import { runService } from '@baton/service-kit';

import { orchestratorEnvSchema } from './config/orchestrator.config';
import { ORCHESTRATOR_SERVICE, ORCHESTRATOR_STREAMS, OrchestratorModule } from './orchestrator.module';

void runService({
  service: ORCHESTRATOR_SERVICE,
  module: OrchestratorModule,
  envSchema: orchestratorEnvSchema,
  transport: true,
  streams: ORCHESTRATOR_STREAMS,
  telemetry,
});
