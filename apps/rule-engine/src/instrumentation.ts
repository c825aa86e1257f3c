// Imported first by main.ts: tracing must be set up before any instrumented module (http) loads.
import { startTelemetry } from '@baton/telemetry';

import { RULE_ENGINE_SERVICE } from './service.descriptor';

/** Started only when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed last at shutdown. */
export const telemetry = startTelemetry({
  serviceName: `baton-${RULE_ENGINE_SERVICE.name}`,
  serviceVersion: RULE_ENGINE_SERVICE.version,
});
