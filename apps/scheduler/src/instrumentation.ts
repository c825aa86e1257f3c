// Imported first by main.ts: tracing must be set up before any instrumented module (http) loads.
import { startTelemetry } from '@baton/telemetry';

import { SCHEDULER_SERVICE } from './service.descriptor';

/** Started only when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed last at shutdown. */
export const telemetry = startTelemetry({
  serviceName: `baton-${SCHEDULER_SERVICE.name}`,
  serviceVersion: SCHEDULER_SERVICE.version,
});
