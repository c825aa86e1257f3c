// Imported first by main.ts: tracing must be set up before any instrumented module loads.
import { startTelemetry } from '@baton/telemetry';

export const telemetry = startTelemetry({ serviceName: 'baton-orchestrator', serviceVersion: '0.1.0' });
