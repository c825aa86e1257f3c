import type { TaskHeartbeat, TaskResult } from '@baton/contracts';

import { FakeDelivery, FakeTransport, Recorder, quiet, task, until } from '../test/fakes';
import { isTaskAbortedError } from './task.errors';
import { TaskProcessor, type TaskProcessorOptions } from './task.processor';
import { parseCancelNotice } from './worker';
import type { TaskContext, TaskHandler } from './worker.types';

/** A manual clock for deadlines and heartbeat throttling. */
class Clock {
  t = Date.parse('2026-06-01T00:00:00.000Z');
  readonly now = (): number => this.t;
}

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
  const heartbeats = () =>
    transport.published
      .filter((p) => p.subject.startsWith('baton.orch.heartbeat.'))
      .map((p) => p.body as TaskHeartbeat);
  const results = () =>
    transport.published
      .filter((p) => p.subject.startsWith('baton.orch.result.'))
      .map((p) => p.body as TaskResult);
  return { recorder, transport, processor, heartbeats, results };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A task whose handler runs until `release()`, on a manual clock; resolves once the handler has its context. */
async function heldTask(heartbeatIntervalMs: number) {
  const clock = new Clock();
  let release: () => void = () => undefined;
  let ctx: TaskContext | undefined;
  const { processor, heartbeats } = setup(
    (_input, c) => {
      ctx = c;
      return new Promise((resolve) => (release = () => resolve('done')));
    },
    { now: clock.now, heartbeatIntervalMs },
  );
  const done = processor.process(new FakeDelivery(new Recorder(), 'd1', task()));
  await until(() => ctx !== undefined);
  return { clock, heartbeats, context: () => ctx, release: () => release(), done };
}

describe('ctx.heartbeat()', () => {
  it('publishes a TaskHeartbeat at most once per interval, sending the latest details at the end of it', async () => {
    const { clock, heartbeats, context, release, done } = await heldTask(40);
    const ctx = context();
    ctx?.heartbeat({ pct: 10 });
    expect(heartbeats()).toEqual([
      {
        protocol: 1,
        kind: 'heartbeat',
        taskId: 'exec1.charge.1',
        executionId: 'exec1',
        stepId: 'charge',
        attempt: 1,
        at: iso(clock.t),
        details: { pct: 10 },
      },
    ]);
    clock.t += 10;
    ctx?.heartbeat({ pct: 20 });
    ctx?.heartbeat({ pct: 30 });
    expect(heartbeats()).toHaveLength(1);
    clock.t += 40;
    await until(() => heartbeats().length === 2);
    expect(heartbeats()[1]?.details).toEqual({ pct: 30 });
    release();
    await done;
    ctx?.heartbeat({ pct: 99 });
    expect(heartbeats()).toHaveLength(2);
  });

  it('waits for the clock, not only the timer: a timer that fires before the interval has passed sends nothing yet', async () => {
    const { clock, heartbeats, context, release, done } = await heldTask(40);
    const ctx = context();
    ctx?.heartbeat({ pct: 10 });
    clock.t += 10;
    ctx?.heartbeat({ pct: 20 });
    // The 30 ms timer fires while the clock still shows 10 ms since the first heartbeat.
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(heartbeats()).toHaveLength(1);
    clock.t += 30;
    await until(() => heartbeats().length === 2);
    const [first, second] = heartbeats();
    expect(Date.parse(second?.at ?? '') - Date.parse(first?.at ?? '')).toBe(40);
    expect(second?.details).toEqual({ pct: 20 });
    release();
    await done;
  });

  it('moves the local deadline like the orchestrator does: now + (deadline - scheduledAt)', async () => {
    const clock = new Clock();
    let ctx: TaskContext | undefined;
    const { processor, results } = setup(
      (_input, c) => {
        ctx = c;
        return new Promise((_resolve, reject) => {
          c.signal.addEventListener('abort', () => reject(new Error('stopped')));
        });
      },
      { now: clock.now, heartbeatIntervalMs: 1 },
    );
    const start = clock.t;
    // A 60 ms attempt timeout.
    const t = task({ scheduledAt: iso(start), deadline: iso(start + 60) });
    const done = processor.process(new FakeDelivery(new Recorder(), 'd1', t));
    await until(() => ctx !== undefined);
    clock.t = start + 50;
    ctx?.heartbeat(); // deadline -> start + 110
    clock.t = start + 80; // past the original deadline
    // Let the deadline timer fire and look at the clock a few times.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ctx?.signal.aborted).toBe(false);
    clock.t = start + 111;
    await done;
    expect(ctx?.signal.aborted).toBe(true);
    expect(results()[0]?.error?.message).toContain(iso(start + 110));
  });
});

describe('ctx.signal', () => {
  it('is aborted by a cancel notice naming the task: reported CANCELLED (non-retryable), then acked', async () => {
    let ctx: TaskContext | undefined;
    const { recorder, processor, results } = setup(
      (_input, c) =>
        new Promise((_resolve, reject) => {
          ctx = c;
          c.signal.addEventListener('abort', () => reject(c.signal.reason as Error));
        }),
    );
    const done = processor.process(new FakeDelivery(recorder, 'd1', task()));
    await until(() => ctx !== undefined);
    processor.cancel({ taskIds: ['other.task.1'], reason: 'terminated by ops' });
    expect(ctx?.signal.aborted).toBe(false);
    processor.cancel({ taskIds: ['exec1.charge.1'], reason: 'terminated by ops' });
    await done;
    expect(isTaskAbortedError(ctx?.signal.reason)).toBe(true);
    expect((ctx?.signal.reason as { kind: string }).kind).toBe('cancelled');
    expect(results()).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: { type: 'CANCELLED', message: 'terminated by ops', nonRetryable: true },
      }),
    ]);
    expect(recorder.events.at(-1)).toBe('ack:d1');
  });

  it('answers a task cancelled before it arrived without running it', async () => {
    const handler = jest.fn(() => 'ran');
    const { recorder, processor, results } = setup(handler);
    processor.cancel({ taskIds: ['exec1.charge.1'], reason: 'terminated' });
    await processor.process(new FakeDelivery(recorder, 'd1', task()));
    expect(handler).not.toHaveBeenCalled();
    expect(results()[0]?.error).toMatchObject({ type: 'CANCELLED', nonRetryable: true });
    expect(recorder.events.at(-1)).toBe('ack:d1');
  });

  it('is aborted when the deadline passes: reported as a retryable TIMEOUT', async () => {
    let ctx: TaskContext | undefined;
    const { recorder, processor, results } = setup(
      (_input, c) =>
        new Promise((_resolve, reject) => {
          ctx = c;
          c.signal.addEventListener('abort', () => reject(new Error('stopped')));
        }),
    );
    const now = Date.now();
    await processor.process(
      new FakeDelivery(recorder, 'd1', task({ scheduledAt: iso(now), deadline: iso(now + 30) })),
    );
    expect((ctx?.signal.reason as { kind: string }).kind).toBe('deadline');
    const error = results()[0]?.error;
    expect(error?.type).toBe('TIMEOUT');
    expect(error?.nonRetryable).toBeUndefined();
    expect(error?.message).toContain('passed its deadline');
    expect(recorder.events.at(-1)).toBe('ack:d1');
  });

  it('does not run a task that arrives after its deadline', async () => {
    const clock = new Clock();
    const handler = jest.fn(() => 'ran');
    const { processor, results } = setup(handler, { now: clock.now });
    const t = task({ scheduledAt: iso(clock.t - 2000), deadline: iso(clock.t - 1000) });
    await processor.process(new FakeDelivery(new Recorder(), 'd1', t));
    expect(handler).not.toHaveBeenCalled();
    expect(results()[0]?.error).toMatchObject({ type: 'TIMEOUT' });
    expect(results()[0]?.error?.nonRetryable).toBeUndefined();
  });
});

describe('compensation tasks', () => {
  it('expose what they compensate', async () => {
    let ctx: TaskContext | undefined;
    const { processor } = setup((_input, c) => {
      ctx = c;
      return null;
    });
    const compensates = { stepId: 'reserve', input: { sku: 'a' }, output: { reservationId: 'r1' } };
    await processor.process(
      new FakeDelivery(new Recorder(), 'd1', task({ compensation: true, compensates })),
    );
    expect(ctx?.compensation).toBe(true);
    expect(ctx?.compensates).toEqual(compensates);
  });

  it('dead-letters a task whose compensates is malformed', async () => {
    const recorder = new Recorder();
    const { processor, transport } = setup(() => null);
    await processor.process(
      new FakeDelivery(recorder, 'd1', { ...task({ compensation: true }), compensates: 'reserve' }),
    );
    expect(transport.published[0]?.subject).toBe('baton.dlq.BATON_TASKS.task_payments_charge');
    expect(recorder.events.at(-1)).toBe('term:d1');
  });
});

describe('parseCancelNotice', () => {
  const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

  it('reads a TaskCancelNotice and rejects anything else', () => {
    expect(parseCancelNotice(enc({ executionId: 'e1', taskIds: ['e1.a.1'], reason: 'ops' }))).toEqual({
      executionId: 'e1',
      taskIds: ['e1.a.1'],
      reason: 'ops',
    });
    expect(parseCancelNotice(enc({ executionId: 'e1', taskIds: [] }))).toEqual({
      executionId: 'e1',
      taskIds: [],
      reason: '',
    });
    for (const bad of [
      '{',
      'null',
      '[]',
      { executionId: 1, taskIds: [] },
      { executionId: 'e', taskIds: [1] },
    ]) {
      expect(parseCancelNotice(enc(bad))).toBeUndefined();
    }
  });
});
