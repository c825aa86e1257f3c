// First: tracing must be set up before any instrumented module loads.
import './instrumentation';

import { runService } from '@baton/service-kit';

import { telemetryEnvSchema } from './config/telemetry.config';
import { telemetry } from './instrumentation';
import { TELEMETRY_STREAMS, TelemetryModule } from './telemetry.module';
import { TELEMETRY_SERVICE } from './service.descriptor';

void runService({
  service: TELEMETRY_SERVICE,
  module: TelemetryModule,
  envSchema: telemetryEnvSchema,
  transport: true,
  streams: TELEMETRY_STREAMS,
  telemetry,
});
