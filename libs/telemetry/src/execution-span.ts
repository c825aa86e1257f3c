import { type Context, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';

import { runWithExecution } from './log-context';
import { type TraceHeaderGetter, extractTraceContext, injectTraceHeaders } from './trace-context';

/** Instrumentation scope of the execution spans. */
export const EXECUTION_TRACER = '@baton/telemetry';

/** Span attribute names of Baton's own (namespaced) attributes. */
export const BatonAttr = {
  EXECUTION_ID: 'baton.execution_id',
  WORKFLOW_ID: 'baton.workflow_id',
  WORKFLOW_VERSION: 'baton.workflow_version',
  STEP_ID: 'baton.step_id',
  ATTEMPT: 'baton.attempt',
  CAUSE: 'baton.cause',
  CREATED: 'baton.execution.created',
  STATUS: 'baton.execution.status',
} as const;

/** What {@link inExecutionSpan} needs to know about the execution being started. */
export interface ExecutionSpanParams {
  executionId: string;
  workflowId: string;
  version?: number;
  /** Why it starts (`api`, `event:<subject>#<seq>`, ...). */
  cause?: string;
  /**
   * The caller's W3C trace headers (`traceparent`, `tracestate`) as received with the start request or
   * event. They parent the execution span when no span is active (an active consumer or HTTP span already
   * continues them).
   */
  inbound?: Record<string, string>;
}

/** What the start function must return: whether it created the execution, and its status. */
export interface StartOutcome {
  created: boolean;
  record?: { status?: string };
}

/**
 * Starts the root span of an execution, `execution <workflowId>` (kind INTERNAL), and runs `start` inside
 * it with the trace headers the execution record must keep (`record.trace`): every message the execution
 * publishes later carries them, so its whole life is one trace.
 *
 * The span is the child of the active span (the consumer span of the start command or event, or the HTTP
 * server span), else of the caller's `inbound` headers, else a new trace. Messages published while
 * `start` runs are children of it. With tracing off no span is made and `start` gets the inbound headers
 * unchanged (propagation only).
 */
export async function inExecutionSpan<T extends StartOutcome>(
  params: ExecutionSpanParams,
  start: (traceHeaders: Record<string, string>) => Promise<T>,
): Promise<T> {
  const inbound = pickTraceHeaders(params.inbound);
  const tracer = trace.getTracer(EXECUTION_TRACER);
  const active = context.active();
  const parent: Context =
    trace.getSpan(active) === undefined ? extractTraceContext(headerGetter(inbound), active) : active;
  const span = tracer.startSpan(
    `execution ${params.workflowId}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        [BatonAttr.EXECUTION_ID]: params.executionId,
        [BatonAttr.WORKFLOW_ID]: params.workflowId,
        ...(params.version === undefined ? {} : { [BatonAttr.WORKFLOW_VERSION]: params.version }),
        ...(params.cause === undefined ? {} : { [BatonAttr.CAUSE]: params.cause }),
      },
    },
    parent,
  );
  if (!span.isRecording()) {
    return runWithExecution(params.executionId, () => start(inbound));
  }
  const spanContext = trace.setSpan(parent, span);
  const headers = injectTraceHeaders({}, spanContext);
  try {
    const outcome = await context.with(spanContext, () =>
      runWithExecution(params.executionId, () => start(headers)),
    );
    span.setAttribute(BatonAttr.CREATED, outcome.created);
    if (outcome.record?.status !== undefined) span.setAttribute(BatonAttr.STATUS, outcome.record.status);
    return outcome;
  } catch (err) {
    span.recordException(err instanceof Error ? err : new Error(String(err)));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** The `traceparent`/`tracestate` entries of `headers` (non-empty values only). */
export function pickTraceHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const name of ['traceparent', 'tracestate']) {
    const value = headers[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

function headerGetter(headers: Record<string, string>): TraceHeaderGetter {
  return (name) => headers[name];
}
