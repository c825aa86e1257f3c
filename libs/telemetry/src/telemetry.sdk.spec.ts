import { context, propagation, trace } from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';

import { startTelemetry } from './telemetry.sdk';
import { currentTraceIds, extractTraceContext, injectTraceHeaders } from './trace-context';

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

describe('startTelemetry', () => {
  it('starts nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const exporter = new tracing.InMemorySpanExporter();
    const handle = startTelemetry({ serviceName: 'baton-test', serviceVersion: '1.2.3', env: {}, exporter });
    expect(handle.enabled).toBe(false);

    const span = trace.getTracer('test').startSpan('work');
    expect(span.isRecording()).toBe(false);
    span.end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(propagation.fields()).toEqual([]);
    expect(injectTraceHeaders({})).toEqual({});
    expect(currentTraceIds()).toEqual({});
    await handle.shutdown();
  });

  it('exports ended spans with the service name and propagates W3C trace context', async () => {
    const exporter = new tracing.InMemorySpanExporter();
    const handle = startTelemetry({
      serviceName: 'baton-test',
      serviceVersion: '1.2.3',
      env: ENDPOINT,
      exporter,
    });
    try {
      expect(handle.enabled).toBe(true);
      expect(startTelemetry({ serviceName: 'other', serviceVersion: '0.0.1', env: ENDPOINT })).toBe(handle);

      const tracer = trace.getTracer('test');
      let headers: Record<string, string> = {};
      let ids = {};
      let traceId = '';
      tracer.startActiveSpan('send baton.tasks.{action}', (span) => {
        traceId = span.spanContext().traceId;
        headers = injectTraceHeaders({});
        ids = currentTraceIds();
        span.end();
      });

      expect(headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(ids).toEqual({ traceId, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });

      const remote = extractTraceContext((name) => headers[name]);
      const child = tracer.startSpan('process baton.tasks.{action}', {}, remote);
      expect(child.spanContext().traceId).toBe(traceId);
      child.end();

      await handle.forceFlush();
      const finished = exporter.getFinishedSpans();
      expect(finished.map((s) => s.name)).toEqual([
        'send baton.tasks.{action}',
        'process baton.tasks.{action}',
      ]);
      expect(finished[0]?.resource.attributes['service.name']).toBe('baton-test');
      expect(finished[0]?.resource.attributes['service.version']).toBe('1.2.3');
      expect(finished[1]?.parentSpanContext?.spanId).toBe(finished[0]?.spanContext().spanId);
    } finally {
      await handle.shutdown();
    }
    // Unregistered again: new spans are no longer recorded.
    expect(trace.getTracer('test').startSpan('after').isRecording()).toBe(false);
    expect(context.active()).toBeDefined();
  });

  it('ignores missing or empty trace headers', () => {
    const parent = context.active();
    expect(extractTraceContext(() => '', parent)).toBe(parent);
    expect(extractTraceContext(() => undefined, parent)).toBe(parent);
  });
});
