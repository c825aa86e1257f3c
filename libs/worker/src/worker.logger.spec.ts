import { context, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';

import { childLogger, createJsonLogger } from './worker.logger';
import type { WorkerLogger } from './worker.types';

describe('createJsonLogger', () => {
  it('writes JSON lines from the minimum level up, with bindings and error fields', () => {
    const lines: string[] = [];
    const log = createJsonLogger('info', { name: 'w' }, (line) => lines.push(line));
    log.debug({ a: 1 }, 'hidden');
    log.child?.({ taskId: 't1' }).warn({ err: new TypeError('bad') }, 'careful');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(record).toMatchObject({
      level: 40,
      name: 'w',
      taskId: 't1',
      msg: 'careful',
      err: { type: 'TypeError', message: 'bad' },
    });
  });
});

describe('log correlation', () => {
  const provider = new node.NodeTracerProvider();
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('adds trace_id and span_id inside a span and execution_id for an execution', () => {
    const lines: string[] = [];
    const log = createJsonLogger('info', { name: 'w' }, (line) => lines.push(line)).child?.({
      executionId: 'ex-1',
    });
    log?.info({}, 'outside');
    const span = trace.getTracer('t').startSpan('task');
    context.with(trace.setSpan(context.active(), span), () => log?.info({}, 'inside'));
    span.end();
    const [outside, inside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(outside).toMatchObject({ execution_id: 'ex-1', msg: 'outside' });
    expect(outside).not.toHaveProperty('trace_id');
    expect(inside).toMatchObject({
      execution_id: 'ex-1',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
    });
  });
});

describe('childLogger', () => {
  it('merges bindings into loggers without child()', () => {
    const seen: unknown[] = [];
    const base: WorkerLogger = {
      debug: () => undefined,
      info: (obj, msg) => seen.push([obj, msg]),
      warn: () => undefined,
      error: () => undefined,
    };
    childLogger(childLogger(base, { a: 1 }), { b: 2 }).info({ c: 3 }, 'm');
    expect(seen).toEqual([[{ a: 1, b: 2, c: 3 }, 'm']]);
  });
});
