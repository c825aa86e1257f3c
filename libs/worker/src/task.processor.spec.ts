import { BatonError, ErrorCode, PROTOCOL_VERSION, type TaskResult } from '@baton/contracts';

import { FakeDelivery, FakeTransport, type Published, Recorder, quiet, task, until } from '../test/fakes';
import { ResultCache } from './result.cache';
import type { HeaderMap } from './task-delivery';
import { CompleteAsyncError, NonRetryableError } from './task.errors';
import { TaskProcessor, type TaskProcessorOptions } from './task.processor';
import type { TaskContext, TaskHandler } from './worker.types';

function setup(handler: TaskHandler, options: Partial<TaskProcessorOptions> = {}) {
  const recorder = new Recorder();
  const transport = new FakeTransport(recorder);
  const processor = new TaskProcessor(handler, transport, {
    action: 'payments.charge',
    stream: 'BATON_TASKS',
    durable: 'task_payments_charge',
    workerId: 'worker-1',
    ackWaitMs: 30_000,
    logger: quiet,
    publishRetry: { initialMs: 1, maxMs: 2 },
    ...options,
  });
  const delivery = (name: string, body: unknown = task(), headers: HeaderMap = {}, deliveryCount = 1) =>
    new FakeDelivery(recorder, name, body, headers, 7, deliveryCount);
  return { recorder, transport, processor, delivery };
}

function resultOf(p: Published): TaskResult {
  return p.body as TaskResult;
}

describe('TaskProcessor', () => {
  describe('a completed task', () => {
    it('publishes the result, then acks, with the handler given the input and context', async () => {
      let seen: { input: unknown; ctx: TaskContext } | undefined;
      const { recorder, transport, processor, delivery } = setup(async (input, ctx) => {
        seen = { input, ctx };
        return { chargeId: `ch_${ctx.idempotencyKey}` };
      });
      await processor.process(
        delivery('d1', task({ itemIndex: 2, deadline: '2030-01-01T00:00:00.000Z', compensation: true }), {
          traceparent: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
          tracestate: ['vendor=x'],
        }),
      );

      expect(recorder.events).toEqual([
        'publish-start:result:exec1.charge.1',
        'puback:result:exec1.charge.1',
        'ack:d1',
      ]);
      expect(seen?.input).toEqual({ amount: 42 });
      expect(seen?.ctx).toMatchObject({
        taskId: 'exec1.charge.1',
        executionId: 'exec1',
        workflowId: 'order-fulfillment',
        workflowVersion: 3,
        stepId: 'charge',
        attempt: 1,
        itemIndex: 2,
        action: 'payments.charge',
        idempotencyKey: 'exec1:charge',
        compensation: true,
        deliveryCount: 1,
        token: 'tok',
      });
      expect(seen?.ctx.deadline?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
      expect(seen?.ctx.signal.aborted).toBe(false);

      const [published] = transport.published;
      expect(published?.subject).toBe('baton.orch.result.exec1');
      expect(published?.headers).toEqual({
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=x',
        'Baton-Execution-Id': 'exec1',
        'Baton-Workflow-Id': 'order-fulfillment',
        'Baton-Step-Id': 'charge',
        'Baton-Attempt': '1',
      });
      expect(resultOf(published)).toEqual({
        protocol: PROTOCOL_VERSION,
        taskId: 'exec1.charge.1',
        executionId: 'exec1',
        stepId: 'charge',
        itemIndex: 2,
        attempt: 1,
        status: 'completed',
        output: { chargeId: 'ch_exec1:charge' },
        workerId: 'worker-1',
        startedAt: expect.any(String),
        finishedAt: expect.any(String),
      });
    });

    it('does not ack before the PubAck arrives', async () => {
      const { recorder, transport, processor, delivery } = setup(() => 'ok');
      let open: () => void = () => undefined;
      transport.gate = new Promise((resolve) => (open = resolve));
      const done = processor.process(delivery('d1'));
      await until(() => recorder.events.includes('publish-start:result:exec1.charge.1'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(recorder.events.some((e) => e.startsWith('ack:'))).toBe(false);
      open();
      await done;
      expect(recorder.events.slice(-2)).toEqual(['puback:result:exec1.charge.1', 'ack:d1']);
    });

    it('retries a failed publication with the same message id before acking', async () => {
      const { recorder, transport, processor, delivery } = setup(() => 'ok');
      transport.failures = 2;
      await processor.process(delivery('d1'));
      expect(recorder.events).toEqual([
        'publish-start:result:exec1.charge.1',
        'publish-failed:result:exec1.charge.1',
        'publish-start:result:exec1.charge.1',
        'publish-failed:result:exec1.charge.1',
        'publish-start:result:exec1.charge.1',
        'puback:result:exec1.charge.1',
        'ack:d1',
      ]);
    });

    it('reports undefined as a null output', async () => {
      const { transport, processor, delivery } = setup(() => undefined);
      await processor.process(delivery('d1'));
      expect(resultOf(transport.published[0])).toMatchObject({
        status: 'completed',
        output: null,
      });
    });

    it('passes a missing input to the handler as null', async () => {
      let seen: unknown = 'unset';
      const { processor, delivery } = setup((input) => {
        seen = input;
        return 1;
      });
      const body: Record<string, unknown> = { ...task() };
      delete body.input;
      await processor.process(delivery('d1', body));
      expect(seen).toBeNull();
    });
  });

  describe('failures', () => {
    async function failWith(thrown: () => unknown) {
      const { recorder, transport, processor, delivery } = setup(() => {
        throw thrown();
      });
      await processor.process(delivery('d1'));
      expect(recorder.events.at(-1)).toBe('ack:d1');
      const result = resultOf(transport.published[0]);
      expect(result.status).toBe('failed');
      expect(result.output).toBeUndefined();
      return result.error;
    }

    it('maps a NonRetryableError to a non-retryable failure with its type and details', async () => {
      expect(
        await failWith(
          () => new NonRetryableError('CardDeclined', 'card declined', { code: 'do_not_honor' }),
        ),
      ).toEqual({
        type: 'CardDeclined',
        message: 'card declined',
        nonRetryable: true,
        details: { code: 'do_not_honor' },
      });
    });

    it('uses a string code as the type of other errors, else their name; they are retryable', async () => {
      expect(
        await failWith(() => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
      ).toEqual({
        type: 'ECONNRESET',
        message: 'socket hang up',
      });
      expect(await failWith(() => new TypeError('x is not a function'))).toEqual({
        type: 'TypeError',
        message: 'x is not a function',
      });
    });

    it('reports a rejected promise like a throw', async () => {
      const { transport, processor, delivery } = setup(async () => Promise.reject(new RangeError('too far')));
      await processor.process(delivery('d1'));
      expect(resultOf(transport.published[0]).error).toEqual({
        type: 'RangeError',
        message: 'too far',
      });
    });

    it('reports non-Error throws', async () => {
      expect(await failWith(() => 'boom')).toEqual({ type: 'NonErrorThrown', message: 'boom' });
      expect(await failWith(() => ({ reason: 'nope' }))).toEqual({
        type: 'NonErrorThrown',
        message: '{"reason":"nope"}',
      });
    });

    it('reports a non-retryable BatonError as non-retryable with its code', async () => {
      expect(
        await failWith(
          () =>
            new BatonError(ErrorCode.VALIDATION_FAILED, 'bad order', {
              details: [{ path: '/a', message: 'm' }],
            }),
        ),
      ).toEqual({
        type: 'VALIDATION_FAILED',
        message: 'bad order',
        nonRetryable: true,
        details: [{ path: '/a', message: 'm' }],
      });
    });
  });

  describe('output limit', () => {
    it('fails an output larger than the limit with OUTPUT_TOO_LARGE, non-retryable', async () => {
      const { recorder, transport, processor, delivery } = setup(() => ({ blob: 'x'.repeat(200) }), {
        maxOutputBytes: 100,
      });
      await processor.process(delivery('d1'));
      const result = resultOf(transport.published[0]);
      expect(result).toMatchObject({
        status: 'failed',
        error: { type: 'OUTPUT_TOO_LARGE', nonRetryable: true },
      });
      expect(result.error?.message).toMatch(/211 bytes.*limit is 100/);
      expect(result.output).toBeUndefined();
      expect(recorder.events.at(-1)).toBe('ack:d1');
    });

    it('accepts an output exactly at the limit', async () => {
      const output = 'x'.repeat(98); // 100 bytes of JSON with the quotes
      const { transport, processor, delivery } = setup(() => output, { maxOutputBytes: 100 });
      await processor.process(delivery('d1'));
      expect(resultOf(transport.published[0])).toMatchObject({ status: 'completed', output });
    });

    it('uses DEFAULT_MAX_OUTPUT_BYTES by default', async () => {
      const { transport, processor, delivery } = setup(() => 'x'.repeat(128 * 1024));
      await processor.process(delivery('d1'));
      expect(resultOf(transport.published[0]).error?.type).toBe('OUTPUT_TOO_LARGE');
    });

    it('fails an output that cannot be written as JSON with OUTPUT_NOT_SERIALIZABLE', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      for (const output of [cyclic, { n: BigInt(1) }, () => 1]) {
        const { transport, processor, delivery } = setup(() => output);
        await processor.process(delivery('d1'));
        expect(resultOf(transport.published[0])).toMatchObject({
          status: 'failed',
          error: { type: 'OUTPUT_NOT_SERIALIZABLE', nonRetryable: true },
        });
      }
    });
  });

  describe('malformed tasks', () => {
    const cases: [string, unknown, string, RegExp][] = [
      ['not JSON', '{"protocol":', 'BAD_REQUEST', /not UTF-8 JSON/],
      ['not an object', '[1,2]', 'VALIDATION_FAILED', /JSON object/],
      ['another protocol', { ...task(), protocol: 99 }, 'VALIDATION_FAILED', /protocol 99/],
      [
        'missing fields',
        { protocol: PROTOCOL_VERSION, action: 'payments.charge' },
        'VALIDATION_FAILED',
        /taskId.*replyTo/,
      ],
      ['another action', task({ action: 'payments.refund' }), 'VALIDATION_FAILED', /does not match/],
      ['a wildcard replyTo', task({ replyTo: 'baton.orch.>' }), 'VALIDATION_FAILED', /replyTo/],
      ['a zero attempt', task({ attempt: 0 }), 'VALIDATION_FAILED', /attempt must be a positive integer/],
    ];

    it.each(cases)(
      'dead-letters %s and terminates it without running the handler',
      async (_name, body, code, message) => {
        const handler = jest.fn();
        const { recorder, transport, processor } = setup(handler);
        const d = new FakeDelivery(
          recorder,
          'd1',
          body,
          { 'Nats-Msg-Id': ['task:x'], traceparent: ['tp'] },
          12,
          3,
        );
        await processor.process(d);

        expect(handler).not.toHaveBeenCalled();
        expect(recorder.events).toEqual([
          'publish-start:dlq:BATON_TASKS:task_payments_charge:12',
          'puback:dlq:BATON_TASKS:task_payments_charge:12',
          'term:d1',
        ]);
        const [dead] = transport.published as [Published];
        expect(dead.subject).toBe('baton.dlq.BATON_TASKS.task_payments_charge');
        expect(dead.headers).toMatchObject({
          traceparent: ['tp'],
          'Baton-Dlq-Stream': 'BATON_TASKS',
          'Baton-Dlq-Consumer': 'task_payments_charge',
          'Baton-Dlq-Subject': 'baton.tasks.payments.charge',
          'Baton-Dlq-Sequence': '12',
          'Baton-Dlq-Deliveries': '3',
          'Baton-Dlq-Error-Code': code,
        });
        expect(dead.headers['Nats-Msg-Id']).toBeUndefined();
        expect(String(dead.headers['Baton-Dlq-Error'])).toMatch(message);
        expect(dead.body).toEqual({
          stream: 'BATON_TASKS',
          consumer: 'task_payments_charge',
          subject: 'baton.tasks.payments.charge',
          streamSequence: 12,
          deliveries: 3,
          errorCode: code,
          error: expect.stringMatching(message),
          deadAt: expect.any(String),
          data: Buffer.from(d.data).toString('base64'),
          headers: { 'Nats-Msg-Id': ['task:x'], traceparent: ['tp'] },
        });
      },
    );

    it('hands a malformed task back to the broker (never drops it) when the dead letter cannot be published', async () => {
      const { recorder, transport, processor, delivery } = setup(jest.fn(), {
        deadLetterAttempts: 2,
        deadLetterRetryDelayMs: 1234,
      });
      transport.failures = 5;
      await processor.process(delivery('d1', 'garbage'));
      expect(recorder.events.filter((e) => e.startsWith('publish-failed'))).toHaveLength(2);
      expect(recorder.events.at(-1)).toBe('nak:d1:1234');
      expect(recorder.events.some((e) => e.startsWith('term'))).toBe(false);
    });
  });

  describe('redeliveries', () => {
    it('re-publishes the cached result (same message id and bytes) instead of running the handler again', async () => {
      const handler = jest.fn(() => ({ n: Math.random() }));
      const { recorder, transport, processor, delivery } = setup(handler);
      await processor.process(delivery('first'));
      await processor.process(delivery('again', task(), {}, 2));

      expect(handler).toHaveBeenCalledTimes(1);
      expect(transport.published).toHaveLength(2);
      const [a, b] = transport.published as [Published, Published];
      expect(b.msgId).toBe(a.msgId);
      expect(Buffer.from(b.payload).equals(Buffer.from(a.payload))).toBe(true);
      expect(recorder.events.slice(-2)).toEqual(['puback:result:exec1.charge.1', 'ack:again']);
    });

    it('runs the handler again for another attempt of the same step', async () => {
      const handler = jest.fn(() => 'ok');
      const { processor, delivery } = setup(handler);
      await processor.process(delivery('a1'));
      await processor.process(delivery('a2', task({ attempt: 2, taskId: 'exec1.charge.2' })));
      expect(handler).toHaveBeenCalledTimes(2);
    });

    it('forgets the oldest results past the cache size', async () => {
      const handler = jest.fn(() => 'ok');
      const { processor, delivery } = setup(handler, { cache: new ResultCache(1) });
      await processor.process(delivery('a', task()));
      await processor.process(delivery('b', task({ taskId: 'exec1.charge.2', attempt: 2 })));
      await processor.process(delivery('a-again', task()));
      expect(handler).toHaveBeenCalledTimes(3);
    });

    it('joins a redelivery that arrives while the task runs, and acks both after the one result', async () => {
      let release: () => void = () => undefined;
      const handler = jest.fn(() => new Promise((resolve) => (release = () => resolve('done'))));
      const { recorder, transport, processor, delivery } = setup(handler);
      const first = processor.process(delivery('first'));
      await until(() => handler.mock.calls.length === 1);
      const second = processor.process(delivery('second', task(), {}, 2));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(recorder.events).toEqual([]);
      release();
      await Promise.all([first, second]);
      expect(handler).toHaveBeenCalledTimes(1);
      expect(transport.published).toHaveLength(1);
      expect(recorder.events).toEqual([
        'publish-start:result:exec1.charge.1',
        'puback:result:exec1.charge.1',
        'ack:first',
        'ack:second',
      ]);
    });
  });

  describe('CompleteAsyncError', () => {
    it('acks without publishing a result, also on redelivery', async () => {
      const handler = jest.fn(() => {
        throw new CompleteAsyncError();
      });
      const { recorder, transport, processor, delivery } = setup(handler);
      await processor.process(delivery('d1'));
      await processor.process(delivery('d2', task(), {}, 2));
      expect(transport.published).toHaveLength(0);
      expect(recorder.events).toEqual(['ack:d1', 'ack:d2']);
      expect(handler).toHaveBeenCalledTimes(1);
    });
  });

  describe('heartbeats', () => {
    it('sends +WPI every half ack wait while the handler runs, and stops after', async () => {
      let release: () => void = () => undefined;
      const { processor, delivery } = setup(() => new Promise((resolve) => (release = () => resolve(1))), {
        ackWaitMs: 200,
      });
      const d = delivery('d1');
      const done = processor.process(d);
      await until(() => d.workingCount >= 2);
      release();
      await done;
      const after = d.workingCount;
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(d.workingCount).toBe(after);
    });

    it('sends +WPI on ctx.heartbeat(), coalescing calls within a quarter of the ack wait', async () => {
      const d = { current: undefined as FakeDelivery | undefined };
      const { processor, delivery } = setup(
        async (_input, ctx) => {
          ctx.heartbeat(); // right at the start: coalesced with the start
          await new Promise((resolve) => setTimeout(resolve, 1100));
          ctx.heartbeat();
          ctx.heartbeat();
          return 1;
        },
        { ackWaitMs: 60_000 },
      );
      d.current = delivery('d1');
      await processor.process(d.current);
      expect(d.current.workingCount).toBe(1);
    });
  });

  describe('force', () => {
    it('aborts running handlers; a handler that throws after the abort is handed back, not reported', async () => {
      let signal: AbortSignal | undefined;
      const { recorder, transport, processor, delivery } = setup(
        (_input, ctx) =>
          new Promise((_resolve, reject) => {
            signal = ctx.signal;
            ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      );
      const done = processor.process(delivery('d1'));
      await until(() => signal !== undefined);
      processor.force('closing');
      await done;
      expect(signal?.aborted).toBe(true);
      expect(transport.published).toHaveLength(0);
      expect(recorder.events).toEqual(['nak:d1']);
    });

    it('stops retrying a publication and hands the task back', async () => {
      const { recorder, transport, processor, delivery } = setup(() => 'ok', {
        publishRetry: { initialMs: 20, maxMs: 20 },
      });
      transport.failures = Number.POSITIVE_INFINITY;
      const done = processor.process(delivery('d1'));
      await until(() => recorder.events.filter((e) => e.startsWith('publish-failed')).length >= 2);
      processor.force('closing');
      await done;
      expect(recorder.events.at(-1)).toBe('nak:d1');
      expect(recorder.events.some((e) => e.startsWith('ack'))).toBe(false);
    });

    it('hands back deliveries received after force without running them', async () => {
      const handler = jest.fn();
      const { recorder, processor, delivery } = setup(handler);
      processor.force('closing');
      await processor.process(delivery('late'));
      expect(handler).not.toHaveBeenCalled();
      expect(recorder.events).toEqual(['nak:late']);
    });
  });

  it('whenIdle resolves once every delivery is settled', async () => {
    let release: () => void = () => undefined;
    const { processor, delivery } = setup(() => new Promise((resolve) => (release = () => resolve(1))));
    const done = processor.process(delivery('d1'));
    let idle = false;
    const waiting = processor.whenIdle().then(() => (idle = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(idle).toBe(false);
    expect(processor.activeCount).toBe(1);
    release();
    await done;
    await waiting;
    expect(idle).toBe(true);
    expect(processor.activeCount).toBe(0);
  });
});
