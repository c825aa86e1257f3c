/**
 * One execution is one trace: every service exports its spans by OTLP/HTTP to a receiver in this process,
 * a worker in this process (traced by the same SDK) handles the tasks, and the spans of one execution
 * started by an event carrying the caller's `traceparent` must form one tree under the caller's span, with
 * the right services, span kinds and Baton attributes on every step attempt.
 */
import { ROOT_CONTEXT, SpanKind, propagation, trace } from '@opentelemetry/api';
import { resources, tracing } from '@opentelemetry/sdk-node';

import type { WorkflowDefinition } from '@baton/contracts';
import { type TelemetryHandle, startTelemetry } from '@baton/telemetry';
import { waitFor } from '@baton/testing';
import { Worker } from '@baton/worker';

import {
  FetchOtlpJsonExporter,
  OtlpReceiver,
  OtlpSpanKind,
  type ReceivedSpan,
  buildTraceTree,
  flattenTree,
  renderTraceTree,
} from './support/otlp-receiver';
import { Stack } from './support/stack';

const WORKER_SERVICE = 'baton-e2e-worker';
const CALLER_SERVICE = 'e2e-caller';
const WORKFLOW = 'traced';

function definition(): WorkflowDefinition {
  const steps: WorkflowDefinition['steps'] = [
    {
      id: 'check',
      type: 'decision',
      action: 'trace-policy',
      parameters: { total: '{% $input.total %}' },
      branches: { approve: ['charge'], default: ['refuse'] },
    },
    { id: 'charge', type: 'task', action: 'trace.charge', dependencies: ['check'] },
    { id: 'refuse', type: 'task', action: 'trace.refuse', dependencies: ['check'] },
    { id: 'ship', type: 'task', action: 'trace.ship', dependencies: ['charge'] },
  ];
  steps.push(
    {
      id: 'flaky',
      type: 'task',
      action: 'trace.flaky',
      dependencies: ['ship'],
      retryPolicy: { maxAttempts: 2, initialIntervalMs: 100 },
    },
    { id: 'pause', type: 'wait', parameters: { seconds: 1 }, dependencies: ['flaky'] },
  );
  return {
    id: WORKFLOW,
    version: 1,
    triggers: [{ type: 'event', subject: 'events.traced.order', input: "{% { 'total': $event.total } %}" }],
    steps,
  };
}

/** Step attempts that a worker (or the rule-engine) handles: [stepId, attempt, action]. */
function expectedAttempts(): [string, number, string][] {
  const attempts: [string, number, string][] = [
    ['charge', 1, 'trace.charge'],
    ['ship', 1, 'trace.ship'],
  ];
  attempts.push(['flaky', 1, 'trace.flaky'], ['flaky', 2, 'trace.flaky']);
  return attempts;
}

describe('tracing across every service', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  let telemetry: TelemetryHandle;
  let caller: tracing.BasicTracerProvider;
  let worker: Worker;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    // This process: the worker's spans (the global SDK) and the caller's (a provider of its own).
    telemetry = startTelemetry({
      serviceName: WORKER_SERVICE,
      serviceVersion: '0.0.1',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      exporter: new FetchOtlpJsonExporter(receiver.url),
    });
    caller = new tracing.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': CALLER_SERVICE }),
      spanProcessors: [new tracing.SimpleSpanProcessor(new FetchOtlpJsonExporter(receiver.url))],
    });
    stack = await Stack.start({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    worker = await Worker.connect({ servers: stack.nats.url, name: 'e2e-traced-worker' });
    for (const action of ['trace.charge', 'trace.refuse', 'trace.ship', 'trace.flaky']) {
      worker.handle(action, async (_input, ctx) => {
        if (action === 'trace.flaky' && ctx.attempt === 1) {
          const error = new Error('first attempt fails on purpose');
          error.name = 'E2eFlaky';
          throw error;
        }
        return { action };
      });
    }
    await worker.start();
    const rule = {
      id: 'approve-orders',
      name: 'Orders with a total are approved',
      category: 'trace-policy',
      priority: 10,
      enabled: true,
      condition: { all: [{ fact: 'total', operator: 'greaterThan', value: 0 }] },
      actions: [{ type: 'approve' }],
    };
    expect((await stack.http('rule-engine', 'POST', '/v1/rules', rule)).status).toBe(201);
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', definition())).status).toBe(201);
  });

  afterAll(async () => {
    await worker?.close();
    await stack?.stop();
    await caller?.shutdown();
    await telemetry?.shutdown();
    await receiver?.close();
  });

  it("makes one execution started by a traced event one tree under the caller's span", async () => {
    // The caller: a span of its own, whose context the event carries.
    const span = caller.getTracer('e2e').startSpan('publish order', { kind: SpanKind.PRODUCER });
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
    const traceId = span.spanContext().traceId;
    const js = await stack.js();
    const { headers: natsHeaders } = await import('@nats-io/nats-core');
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    await js.publish('events.traced.order', JSON.stringify({ id: 'o-1', total: 42 }), { headers: h });
    span.end();

    const executionId = await waitFor(
      async () => {
        const res = await stack.http<{ items: { executionId?: string; id?: string; status: string }[] }>(
          'state-store',
          'GET',
          `/v1/executions?workflowId=${WORKFLOW}`,
        );
        const item = res.body.items?.find((i) => i.status === 'COMPLETED');
        return item ? (item.executionId ?? item.id) : undefined;
      },
      { what: 'the traced execution completed', timeoutMs: 60_000 },
    );

    // Every span of the trace has arrived once the tree is whole and holds every expected hop.
    const spans = await waitFor(
      () => {
        const all = receiver.trace(traceId);
        const ids = new Set(all.map((s) => s.spanId));
        const whole = all.every((s) => s.parentSpanId === undefined || ids.has(s.parentSpanId));
        const workerSpans = all.filter(
          (s) => s.service === WORKER_SERVICE && s.kind === OtlpSpanKind.CONSUMER,
        );
        const has = (service: string) => all.some((s) => s.service === service);
        const complete =
          workerSpans.length === expectedAttempts().length &&
          has('baton-rule-engine') &&
          has('baton-state-store') &&
          has('baton-telemetry') &&
          has('baton-scheduler');
        return whole && complete ? all : undefined;
      },
      { what: 'the spans of the trace', timeoutMs: 30_000, intervalMs: 200 },
    ).catch((err: Error) => {
      const got = receiver.trace(traceId);
      const others = receiver.spans.filter((s) => s.traceId !== traceId);
      console.log(
        `incomplete trace ${traceId} (${got.length} spans):\n${renderTraceTree(buildTraceTree(got))}\n` +
          `${others.length} spans of other traces:\n${renderTraceTree(buildTraceTree(others))}`,
      );
      throw err;
    });

    const roots = buildTraceTree(spans);
    console.log(
      `trace ${traceId} (execution ${executionId}), ${spans.length} spans:\n${renderTraceTree(roots)}`,
    );

    // One tree, rooted at the caller's span.
    expect(roots).toHaveLength(1);
    expect(roots[0]?.span.spanId).toBe(span.spanContext().spanId);
    expect(roots[0]?.span.service).toBe(CALLER_SERVICE);
    expect(flattenTree(roots)).toHaveLength(spans.length);
    expect(receiver.rejected).toBe(0);

    // PostgreSQL queries made while handling traced messages are CLIENT spans under those messages' spans.
    const isPg = (s: { kind: number; attributes: Record<string, unknown> }) =>
      s.kind === OtlpSpanKind.CLIENT &&
      (s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
    const pgSpans = await waitFor(
      () => {
        const found = receiver.spans.filter((s) => isPg(s) && s.service === 'baton-state-store');
        return found.length > 0 ? found : undefined;
      },
      { what: 'PostgreSQL client spans of the state-store', timeoutMs: 30_000, intervalMs: 200 },
    );
    const received = new Set(receiver.spans.map((s) => s.spanId));
    expect(pgSpans.every((s) => s.parentSpanId !== undefined && received.has(s.parentSpanId))).toBe(true);

    // No span about this execution lives in another trace.
    const elsewhere = receiver.spans.filter(
      (s) => s.attributes['baton.execution_id'] === executionId && s.traceId !== traceId,
    );
    expect(elsewhere).toEqual([]);

    const services = new Set(spans.map((s) => s.service));
    for (const service of [
      CALLER_SERVICE,
      'baton-orchestrator',
      'baton-rule-engine',
      'baton-state-store',
      'baton-telemetry',
      WORKER_SERVICE,
      'baton-scheduler',
    ]) {
      expect(services).toContain(service);
    }
    for (const s of spans) {
      if (s.kind === OtlpSpanKind.PRODUCER || s.kind === OtlpSpanKind.CONSUMER) {
        if (s.service !== CALLER_SERVICE) expect(s.attributes['messaging.system']).toBe('nats');
      }
    }

    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) =>
      s.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId);

    // The event's consumer span in the orchestrator is the caller's child.
    const started = spans.find(
      (s) =>
        s.service === 'baton-orchestrator' &&
        s.kind === OtlpSpanKind.CONSUMER &&
        s.attributes['messaging.destination.name'] === 'events.traced.order',
    );
    expect(started?.parentSpanId).toBe(span.spanContext().spanId);

    // Each step attempt: the orchestrator's PRODUCER span of the task and the worker's CONSUMER span under it.
    const stepAttrs = (stepId: string, attempt: number) => ({
      'baton.execution_id': executionId,
      'baton.workflow_id': WORKFLOW,
      'baton.step_id': stepId,
      'baton.attempt': attempt,
    });
    for (const [stepId, attempt, action] of expectedAttempts()) {
      const handled = spans.find(
        (s) =>
          s.service === WORKER_SERVICE &&
          s.kind === OtlpSpanKind.CONSUMER &&
          s.attributes['baton.step_id'] === stepId &&
          s.attributes['baton.attempt'] === attempt,
      );
      expect(handled?.name).toBe(`process baton.tasks.${action}`);
      expect(handled?.attributes).toMatchObject({
        ...stepAttrs(stepId, attempt),
        'messaging.destination.name': `baton.tasks.${action}`,
        'messaging.operation.type': 'process',
      });
      const sent = parentOf(handled!);
      expect(sent?.service).toBe('baton-orchestrator');
      expect(sent?.kind).toBe(OtlpSpanKind.PRODUCER);
      expect(sent?.attributes).toMatchObject({
        ...stepAttrs(stepId, attempt),
        'messaging.destination.name': `baton.tasks.${action}`,
        'messaging.operation.type': 'send',
      });
      // The result comes back to the orchestrator as the worker span's child.
      const result = spans.find(
        (s) =>
          s.service === 'baton-orchestrator' &&
          s.kind === OtlpSpanKind.CONSUMER &&
          s.parentSpanId === handled?.spanId,
      );
      expect(result?.attributes['messaging.destination.name']).toBe(`baton.orch.result.${executionId}`);
    }
    const failed = spans.find(
      (s) =>
        s.service === WORKER_SERVICE &&
        s.attributes['baton.step_id'] === 'flaky' &&
        s.attributes['baton.attempt'] === 1,
    );
    expect(failed?.statusCode).toBe(2);
    // The wait step's timer: set through the scheduler, fired back into the same trace.
    const fired = spans.filter((s) => s.service === 'baton-scheduler');
    expect(fired.some((s) => s.kind === OtlpSpanKind.CONSUMER)).toBe(true);
    expect(fired.some((s) => s.kind === OtlpSpanKind.PRODUCER)).toBe(true);

    // The decision: requested by the orchestrator, decided by the rule-engine, answered back.
    const decided = spans.find(
      (s) =>
        s.service === 'baton-rule-engine' &&
        s.kind === OtlpSpanKind.CONSUMER &&
        s.attributes['baton.step_id'] === 'check',
    );
    expect(decided?.attributes).toMatchObject(stepAttrs('check', 1));
    expect(parentOf(decided!)?.service).toBe('baton-orchestrator');
    expect(parentOf(decided!)?.attributes).toMatchObject(stepAttrs('check', 1));
    const answered = spans.find((s) => s.service === 'baton-rule-engine' && s.kind === OtlpSpanKind.PRODUCER);
    expect(answered?.attributes['messaging.destination.name']).toBe(`baton.orch.result.${executionId}`);

    // The skipped branch never ran.
    expect(
      spans.some((s) => s.attributes['baton.step_id'] === 'refuse' && s.service === WORKER_SERVICE),
    ).toBe(false);

    // History reaches the state-store and the telemetry service in the same trace.
    for (const service of ['baton-state-store', 'baton-telemetry']) {
      const consumed = spans.filter((s) => s.service === service && s.kind === OtlpSpanKind.CONSUMER);
      expect(consumed.length).toBeGreaterThan(0);
      for (const s of consumed) expect(s.attributes['baton.execution_id']).toBe(executionId);
    }

    const execution = spans.find((s) => s.name === `execution ${WORKFLOW}`);
    expect(execution?.service).toBe('baton-orchestrator');
    expect(execution?.attributes).toMatchObject({
      'baton.execution_id': executionId,
      'baton.workflow_id': WORKFLOW,
    });
    expect(execution?.parentSpanId).toBe(started?.spanId);
    const descends = (s: ReceivedSpan): boolean => {
      for (let p = parentOf(s); p; p = parentOf(p)) if (p.spanId === execution?.spanId) return true;
      return false;
    };
    for (const s of spans.filter((x) => x.service === WORKER_SERVICE)) expect(descends(s)).toBe(true);
  });
});
