// First: tracing must be set up before any instrumented module loads.
import './instrumentation';

import { runService } from '@baton/service-kit';

import { schedulerEnvSchema } from './config/scheduler.config';
import { telemetry } from './instrumentation';
import { SCHEDULER_STREAMS, SchedulerModule } from './scheduler.module';
import { SCHEDULER_SERVICE } from './service.descriptor';

void runService({
  service: SCHEDULER_SERVICE,
  module: SchedulerModule,
  envSchema: schedulerEnvSchema,
  transport: true,
  streams: SCHEDULER_STREAMS,
  telemetry,
});
