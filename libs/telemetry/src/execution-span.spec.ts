import { SpanKind, context, trace } from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';

import { inExecutionSpan } from './execution-span';
import { currentLogContext, logCorrelationFields } from './log-context';
import { type TelemetryHandle, startTelemetry } from './telemetry.sdk';
import { currentTraceIds } from './trace-context';

const CALLER = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'k=v' };

describe('inExecutionSpan with tracing off', () => {
  it('hands the inbound trace headers through and binds the execution for log lines', async () => {
    let seen: Record<string, string> = {};
    let logFields: Record<string, string> = {};
    const out = await inExecutionSpan(
      { executionId: 'ex-1', workflowId: 'wf', inbound: { ...CALLER, other: 'x' } },
      async (headers) => {
        seen = headers;
        await Promise.resolve();
        logFields = logCorrelationFields();
        return { created: true };
      },
    );
    expect(out).toEqual({ created: true });
    expect(seen).toEqual(CALLER);
    expect(logFields).toEqual({ execution_id: 'ex-1' });
    expect(currentLogContext()).toEqual({});
  });
});

describe('inExecutionSpan with tracing on', () => {
  const exporter = new tracing.InMemorySpanExporter();
  let handle: TelemetryHandle | undefined;
  beforeAll(() => {
    handle = startTelemetry({
      serviceName: 'baton-test',
      serviceVersion: '0.0.1',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      exporter,
    });
  });
  afterAll(() => handle?.shutdown());
  beforeEach(() => exporter.reset());

  it("starts the execution span in the caller's trace and hands its context to the start", async () => {
    let headers: Record<string, string> = {};
    let inside: { traceId?: string; spanId?: string } = {};
    let logFields: Record<string, string> = {};
    await inExecutionSpan(
      { executionId: 'ex-2', workflowId: 'orders', version: 3, cause: 'api', inbound: CALLER },
      async (h) => {
        headers = h;
        inside = currentTraceIds();
        logFields = logCorrelationFields();
        return { created: true, record: { status: 'RUNNING' } };
      },
    );
    await handle?.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('execution orders');
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span?.attributes).toMatchObject({
      'baton.execution_id': 'ex-2',
      'baton.workflow_id': 'orders',
      'baton.workflow_version': 3,
      'baton.cause': 'api',
      'baton.execution.created': true,
      'baton.execution.status': 'RUNNING',
    });
    expect(headers['traceparent']).toBe(`00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`);
    expect(headers['tracestate']).toBe('k=v');
    expect(inside.spanId).toBe(span?.spanContext().spanId);
    expect(logFields).toEqual({ trace_id: inside.traceId, span_id: inside.spanId, execution_id: 'ex-2' });
  });

  it('is the child of the active span (the consumer or HTTP span) rather than the inbound headers', async () => {
    const active = trace.getTracer('t').startSpan('process baton.orch.start.*');
    await context.with(trace.setSpan(context.active(), active), () =>
      inExecutionSpan({ executionId: 'ex-3', workflowId: 'wf', inbound: CALLER }, async () => ({
        created: false,
      })),
    );
    active.end();
    await handle?.forceFlush();
    const span = exporter.getFinishedSpans().find((s) => s.name === 'execution wf');
    expect(span?.parentSpanContext?.spanId).toBe(active.spanContext().spanId);
    expect(span?.attributes['baton.execution.created']).toBe(false);
  });

  it('records a failed start on the span and rethrows', async () => {
    await expect(
      inExecutionSpan({ executionId: 'ex-4', workflowId: 'wf' }, () =>
        Promise.reject(new Error('store down')),
      ),
    ).rejects.toThrow('store down');
    await handle?.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toMatchObject({ code: 2, message: 'store down' });
    expect(span?.parentSpanContext).toBeUndefined();
  });
});
