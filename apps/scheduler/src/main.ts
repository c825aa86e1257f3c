// First: tracing must be set up before any instrumented module loads.
import './instrumentation';

import { databaseServiceEnvSchema, runService } from '@baton/service-kit';

import { telemetry } from './instrumentation';
import { SCHEDULER_STREAMS, SchedulerModule } from './scheduler.module';
import { SCHEDULER_SERVICE } from './service.descriptor';

void runService({
  service: SCHEDULER_SERVICE,
  module: SchedulerModule,
  envSchema: databaseServiceEnvSchema,
  streams: SCHEDULER_STREAMS,
  telemetry,
});
