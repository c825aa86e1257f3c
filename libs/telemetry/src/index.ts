export { startTelemetry } from './telemetry.sdk';
export type { TelemetryHandle, TelemetryOptions } from './telemetry.sdk';
export { currentTraceIds, extractTraceContext, injectTraceHeaders } from './trace-context';
export type { TraceHeaderGetter, TraceIds } from './trace-context';
