import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

import { FakeDelivery, FakeTransport, Recorder, quiet, task } from '../test/fakes';
import { NonRetryableError } from './task.errors';
import { TaskProcessor } from './task.processor';
import type { TaskHandler } from './worker.types';

const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';

describe('task tracing (with an OpenTelemetry SDK registered)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  async function run(handler: TaskHandler) {
    const recorder = new Recorder();
    const transport = new FakeTransport(recorder);
    const processor = new TaskProcessor(handler, transport, {
      action: 'payments.charge',
      stream: 'BATON_TASKS',
      durable: 'task_payments_charge',
      workerId: 'w',
      ackWaitMs: 30_000,
      logger: quiet,
    });
    const delivery = new FakeDelivery(recorder, 'd1', task({ itemIndex: 4 }), {
      traceparent: [`00-${PARENT_TRACE}-${PARENT_SPAN}-01`],
    });
    await processor.process(delivery);
    return transport.published[0];
  }

  it('runs the handler in a CONSUMER span that continues the task trace and is propagated to the result', async () => {
    const published = await run(async () => {
      trace.getTracer('user').startSpan('charge card').end();
      return 'ok';
    });
    const spans = exporter.getFinishedSpans();
    const taskSpan = spans.find((s) => s.name === 'process baton.tasks.payments.charge');
    const userSpan = spans.find((s) => s.name === 'charge card');
    expect(taskSpan).toBeDefined();
    expect(taskSpan?.kind).toBe(SpanKind.CONSUMER);
    expect(taskSpan?.spanContext().traceId).toBe(PARENT_TRACE);
    expect(taskSpan?.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(userSpan?.parentSpanContext?.spanId).toBe(taskSpan?.spanContext().spanId);
    expect(taskSpan?.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'baton.tasks.payments.charge',
      'messaging.destination.template': 'baton.tasks.{action}',
      'messaging.consumer.group.name': 'task_payments_charge',
      'messaging.message.id': 'task:exec1.charge.1',
      'baton.execution_id': 'exec1',
      'baton.workflow_id': 'order-fulfillment',
      'baton.step_id': 'charge',
      'baton.attempt': 1,
      'baton.item_index': 4,
      'baton.task.status': 'completed',
    });
    expect(published?.headers.traceparent).toBe(`00-${PARENT_TRACE}-${taskSpan?.spanContext().spanId}-01`);
  });

  it('marks the span of a failed task as an error', async () => {
    await run(() => {
      throw new NonRetryableError('CardDeclined', 'declined');
    });
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'declined' });
    expect(span?.attributes['error.type']).toBe('CardDeclined');
  });
});
