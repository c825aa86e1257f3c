export { startTelemetry } from './telemetry.sdk';
export type { TelemetryHandle, TelemetryOptions } from './telemetry.sdk';
export { currentTraceIds, extractTraceContext, injectTraceHeaders } from './trace-context';
export type { TraceHeaderGetter, TraceIds } from './trace-context';
export { BatonAttr, EXECUTION_TRACER, inExecutionSpan, pickTraceHeaders } from './execution-span';
export type { ExecutionSpanParams, StartOutcome } from './execution-span';
export { currentLogContext, logCorrelationFields, runWithExecution } from './log-context';
export type { LogContext } from './log-context';
