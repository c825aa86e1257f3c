import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';

import { FakeJsMsg } from '../test/fake-js-msg';
import { resolveConsumerOptions } from './consumer-options';
import { JetStreamPublisher } from './jetstream.publisher';
import { MessageProcessor } from './message-processor';
import { defaultDestinationTemplate } from './tracing';

const exporter = new tracing.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
// Registered again after the tracing-off case shut the first one down.
const provider2 = new node.NodeTracerProvider({
  spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
});

beforeAll(() => provider.register());
afterAll(async () => {
  await provider2.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

function capturingClient() {
  const sent: { subject: string; traceparent: string | undefined }[] = [];
  const client = {
    publish: async (
      subject: string,
      _data: Uint8Array,
      opts: { headers: { get(k: string): string; has(k: string): boolean } },
    ) => {
      sent.push({
        subject,
        traceparent: opts.headers.has('traceparent') ? opts.headers.get('traceparent') : undefined,
      });
      return { stream: 'S', seq: 1, duplicate: false };
    },
  } as unknown as Pick<JetStreamClient, 'publish'>;
  return { client, sent };
}

describe('tracing', () => {
  it('names destinations without ids', () => {
    expect(defaultDestinationTemplate('baton.tasks.inventory.reserve')).toBe('baton.tasks.inventory.*');
    expect(defaultDestinationTemplate('events.order.created')).toBe('events.order.created');
  });

  it('publishes inside a PRODUCER span and injects its traceparent', async () => {
    const { client, sent } = capturingClient();
    const publisher = new JetStreamPublisher({} as NatsConnection, { client });
    await publisher.publish(
      'baton.orch.result.exec-1',
      {},
      { msgId: 'result:1', destinationTemplate: 'baton.orch.result.{executionId}' },
    );
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('send baton.orch.result.{executionId}');
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': 'baton.orch.result.exec-1',
      'messaging.message.id': 'result:1',
    });
    const ctx = span?.spanContext();
    expect(sent[0]?.traceparent).toBe(`00-${ctx?.traceId}-${ctx?.spanId}-01`);
  });

  it('processes inside a CONSUMER span that continues the publisher trace, and the DLQ publish continues it', async () => {
    const { client, sent } = capturingClient();
    const publisher = new JetStreamPublisher({} as NatsConnection, { client });
    const parentTrace = '0af7651916cd43dd8448eb211c80319c';
    const parentSpan = 'b7ad6b7169203331';
    let activeInHandler: string | undefined;
    const processor = new MessageProcessor(
      resolveConsumerOptions({ stream: 'BATON_TASKS', durable: 'task_x', filterSubject: 'baton.tasks.x' }),
      async () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().traceId;
        throw Object.assign(new Error('no'), { code: 'Nope', retryable: false });
      },
      { publisher },
    );
    const msg = new FakeJsMsg({
      subject: 'baton.tasks.x',
      stream: 'BATON_TASKS',
      headers: {
        traceparent: `00-${parentTrace}-${parentSpan}-01`,
        'Nats-Msg-Id': 'task:7',
        'Baton-Execution-Id': 'e7',
        'Baton-Attempt': '3',
      },
    });
    await processor.process(msg.asJsMsg());
    const spans = exporter.getFinishedSpans();
    const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER);
    const producer = spans.find((s) => s.kind === SpanKind.PRODUCER);
    expect(consumer?.name).toBe('process baton.tasks.x');
    expect(consumer?.spanContext().traceId).toBe(parentTrace);
    expect(consumer?.parentSpanContext?.spanId).toBe(parentSpan);
    expect(activeInHandler).toBe(parentTrace);
    expect(consumer?.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': 'baton.tasks.x',
      'messaging.consumer.group.name': 'task_x',
      'messaging.message.id': 'task:7',
      'messaging.operation.name': 'term',
      'baton.execution_id': 'e7',
      'baton.attempt': 3,
    });
    expect(producer?.name).toBe('send baton.dlq.{stream}.{durable}');
    expect(producer?.spanContext().traceId).toBe(parentTrace);
    expect(producer?.parentSpanContext?.spanId).toBe(consumer?.spanContext().spanId);
    expect(sent[0]?.traceparent).toContain(parentTrace);
  });

  it('makes the PRODUCER span in the trace of a traceparent header from another trace, with Baton attributes', async () => {
    const { client, sent } = capturingClient();
    const publisher = new JetStreamPublisher({} as NatsConnection, { client });
    const executionTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const executionSpan = '00f067aa0ba902b7';
    const other = trace.getTracer('t').startSpan('process baton.orch.result.*');
    await context.with(trace.setSpan(context.active(), other), () =>
      publisher.publish(
        'baton.tasks.charge',
        {},
        {
          headers: {
            traceparent: `00-${executionTrace}-${executionSpan}-01`,
            'Baton-Execution-Id': 'e1',
            'Baton-Workflow-Id': 'wf',
            'Baton-Step-Id': 'charge',
            'Baton-Attempt': '2',
          },
        },
      ),
    );
    other.end();
    const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER);
    expect(producer?.spanContext().traceId).toBe(executionTrace);
    expect(producer?.parentSpanContext?.spanId).toBe(executionSpan);
    expect(producer?.attributes).toMatchObject({
      'baton.execution_id': 'e1',
      'baton.workflow_id': 'wf',
      'baton.step_id': 'charge',
      'baton.attempt': 2,
    });
    expect(sent[0]?.traceparent).toBe(`00-${executionTrace}-${producer?.spanContext().spanId}-01`);
  });

  it('keeps the active span as parent when the traceparent header is of the active trace', async () => {
    const { client } = capturingClient();
    const publisher = new JetStreamPublisher({} as NatsConnection, { client });
    const active = trace.getTracer('t').startSpan('process baton.decisions.*');
    const ctx = active.spanContext();
    await context.with(trace.setSpan(context.active(), active), () =>
      publisher.publish(
        'baton.orch.decision.e1',
        {},
        { headers: { traceparent: `00-${ctx.traceId}-b7ad6b7169203331-01` } },
      ),
    );
    active.end();
    const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER);
    expect(producer?.parentSpanContext?.spanId).toBe(ctx.spanId);
  });

  it('passes the headers unchanged with no span when tracing is off', async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    try {
      const { client, sent } = capturingClient();
      const publisher = new JetStreamPublisher({} as NatsConnection, { client });
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await publisher.publish('baton.tasks.x', {}, { headers: { traceparent } });
      expect(sent[0]?.traceparent).toBe(traceparent);
      expect(exporter.getFinishedSpans()).toHaveLength(0);
    } finally {
      provider2.register();
    }
  });
});
