import { context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import type { Context, TextMapGetter } from '@opentelemetry/api';

/** Reads one header (e.g. `(name) => msg.headers?.get(name)`); empty or missing means absent. */
export type TraceHeaderGetter = (name: string) => string | null | undefined;

/** Trace and span id of the active span, for log lines. */
export interface TraceIds {
  traceId?: string;
  spanId?: string;
}

const getterAdapter: TextMapGetter<TraceHeaderGetter> = {
  get(getter, key) {
    const value = getter(key);
    return value === null || value === undefined || value === '' ? undefined : value;
  },
  // The W3C propagator reads fixed keys (`traceparent`, `tracestate`); it never enumerates.
  keys: () => [],
};

/**
 * Writes the W3C trace-context headers (`traceparent`, `tracestate`) of `ctx` (default: the active context)
 * into `carrier` and returns it. Writes nothing when tracing is off or no span is active.
 */
export function injectTraceHeaders(
  carrier: Record<string, string>,
  ctx: Context = context.active(),
): Record<string, string> {
  propagation.inject(ctx, carrier);
  return carrier;
}

/**
 * Returns `parent` (default: the active context) with the remote span context read through `getter`, to
 * start a consumer span as the child of the producer's. Returns `parent` unchanged when the headers are
 * absent or invalid, or tracing is off.
 */
export function extractTraceContext(getter: TraceHeaderGetter, parent: Context = context.active()): Context {
  return propagation.extract(parent, getter, getterAdapter);
}

/** Ids of the active span (`{}` when none is active or tracing is off), for `trace_id`/`span_id` log fields. */
export function currentTraceIds(): TraceIds {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}
