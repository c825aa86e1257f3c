// First: tracing must be set up before any instrumented module loads.
import './instrumentation';

import { commonEnvSchema, runService } from '@baton/service-kit';

import { telemetry } from './instrumentation';
import { TELEMETRY_STREAMS, TelemetryModule } from './telemetry.module';
import { TELEMETRY_SERVICE } from './service.descriptor';

void runService({
  service: TELEMETRY_SERVICE,
  module: TelemetryModule,
  envSchema: commonEnvSchema,
  streams: TELEMETRY_STREAMS,
  telemetry,
});
