import { AsyncLocalStorage } from 'node:async_hooks';

import { currentTraceIds } from './trace-context';

/** Fields every log line written while handling one execution carries. */
export interface LogContext {
  executionId?: string;
}

// Independent of OpenTelemetry's context (which is a no-op when tracing is off): log lines about an
// execution carry its id either way.
const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `executionId` as the execution of every log line written inside it (also after awaits). */
export function runWithExecution<T>(executionId: string | undefined, fn: () => T): T {
  if (executionId === undefined || executionId === '') return fn();
  if (storage.getStore()?.executionId === executionId) return fn();
  return storage.run({ executionId }, fn);
}

/** The execution being handled (`{}` outside {@link runWithExecution}). */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}

/**
 * Log fields of the active span and execution: `trace_id`, `span_id` (when a span is recording) and
 * `execution_id` (inside {@link runWithExecution}); `{}` when neither applies. Used by the pino mixin.
 */
export function logCorrelationFields(): Record<string, string> {
  const ids = currentTraceIds();
  const out: Record<string, string> = {};
  if (ids.traceId !== undefined) {
    out['trace_id'] = ids.traceId;
    if (ids.spanId !== undefined) out['span_id'] = ids.spanId;
  }
  const executionId = storage.getStore()?.executionId;
  if (executionId !== undefined) out['execution_id'] = executionId;
  return out;
}
