import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

import { Headers, type TaskMessage } from '@baton/contracts';

import { type HeaderMap, headerValue } from './task-delivery';
import { WORKER_VERSION } from './version';

const TRACER_NAME = '@baton/worker';

const headerGetter: TextMapGetter<HeaderMap> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => headerValue(carrier, key),
};

/** The CONSUMER span of one task and the context to run its handler in. */
export interface TaskSpan {
  span: Span;
  context: Context;
}

/**
 * Starts the span `process baton.tasks.<action>` (kind CONSUMER) as a child of the task's `traceparent`.
 * With no OpenTelemetry SDK registered this is a no-op span.
 */
export function startTaskSpan(
  task: TaskMessage,
  meta: { subject: string; durable: string; headers: HeaderMap; deliveryCount: number; bodySize: number },
): TaskSpan {
  const parent = propagation.extract(ROOT_CONTEXT, meta.headers, headerGetter);
  const span = trace.getTracer(TRACER_NAME, WORKER_VERSION).startSpan(
    `process baton.tasks.${task.action}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': meta.subject,
        'messaging.destination.template': 'baton.tasks.{action}',
        'messaging.consumer.group.name': meta.durable,
        'messaging.message.id': `task:${task.taskId}`,
        'messaging.message.body.size': meta.bodySize,
        'baton.execution_id': task.executionId,
        'baton.workflow_id': task.workflowId,
        'baton.step_id': task.stepId,
        'baton.attempt': task.attempt,
        'baton.task_id': task.taskId,
        'baton.action': task.action,
        'baton.delivery_count': meta.deliveryCount,
        ...(task.itemIndex === undefined ? {} : { 'baton.item_index': task.itemIndex }),
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Records the end of a task on its span: the outcome, and an error status for a failure. */
export function endTaskSpan(
  span: Span,
  outcome: {
    status: 'completed' | 'failed' | 'async' | 'abandoned';
    errorType?: string;
    errorMessage?: string;
  },
): void {
  span.setAttribute('baton.task.status', outcome.status);
  if (outcome.status === 'failed') {
    if (outcome.errorType !== undefined) span.setAttribute('error.type', outcome.errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorMessage });
  }
  span.end();
}

/**
 * Trace headers for the result: `traceparent`/`tracestate` of the task span when tracing is on, else the
 * task's own trace headers copied unchanged, so the orchestrator can continue the trace either way.
 */
export function resultTraceHeaders(spanContext: Context, taskHeaders: HeaderMap): Record<string, string> {
  const carrier: Record<string, string> = {};
  context.with(spanContext, () => propagation.inject(context.active(), carrier));
  const out: Record<string, string> = {};
  const traceparent = carrier[Headers.TRACEPARENT] ?? headerValue(taskHeaders, Headers.TRACEPARENT);
  if (traceparent !== undefined) {
    out[Headers.TRACEPARENT] = traceparent;
    const tracestate =
      carrier[Headers.TRACEPARENT] !== undefined
        ? carrier[Headers.TRACESTATE]
        : headerValue(taskHeaders, Headers.TRACESTATE);
    if (tracestate !== undefined && tracestate.length > 0) out[Headers.TRACESTATE] = tracestate;
  }
  return out;
}
