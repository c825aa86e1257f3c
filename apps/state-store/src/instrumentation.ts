// Imported first by main.ts: tracing must be in place before the modules it instruments load.
import { startTelemetry } from '@baton/telemetry';

import { STATE_STORE_SERVICE } from './state-store.descriptor';

/** The telemetry handle, flushed last at shutdown. */
export const telemetry = startTelemetry({
  serviceName: `baton-${STATE_STORE_SERVICE.name}`,
  serviceVersion: STATE_STORE_SERVICE.version,
});
