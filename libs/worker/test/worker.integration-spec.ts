import { Headers, Streams, Subjects, taskDurable } from '@baton/contracts';
import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

import { NonRetryableError, type TaskContext, Worker, type WorkerLogger, type WorkerOptions } from '../src';
import { OrchestratorFixture } from './orchestrator.fixture';

/** Keeps the SDK's log records (printed when a test fails is left to jest's output of the assertion). */
function memoryLogger(
  records: { level: string; msg?: string; obj: Record<string, unknown> }[] = [],
): WorkerLogger {
  const log =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      records.push({ level, msg, obj });
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A promise that a test resolves by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Worker against a real nats-server', () => {
  let nats: NatsServerHandle;
  let orch: OrchestratorFixture;
  const workers: Worker[] = [];

  async function worker(options: Partial<WorkerOptions> = {}): Promise<Worker> {
    const w = await Worker.connect({ servers: nats.url, logger: memoryLogger(), ...options });
    workers.push(w);
    return w;
  }

  beforeEach(async () => {
    nats = await startNatsServer();
    orch = await OrchestratorFixture.start(nats.url);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await orch.close();
    await nats.cleanup();
  });

  it('runs a task and publishes its result to replyTo, then acks; the consumer is the shared durable', async () => {
    const w = await worker();
    const seen: TaskContext[] = [];
    w.handle('inventory.reserve', (input: { orderId: string }, ctx) => {
      seen.push(ctx);
      return { reservationId: `res-${ctx.idempotencyKey}`, orderId: input.orderId };
    });
    await w.start();

    const task = orch.task('inventory.reserve', 'reserve', { orderId: 'o-1' });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await orch.publishTask(task, { [Headers.TRACEPARENT]: traceparent });
    const received = await orch.resultOf(task.taskId);

    expect(received.subject).toBe(Subjects.result(orch.executionId));
    expect(received.headers[Headers.MSG_ID]).toBe(`result:${task.taskId}`);
    expect(received.headers[Headers.TRACEPARENT]).toBe(traceparent); // no OTel SDK: copied as received
    expect(received.result).toMatchObject({
      protocol: 1,
      taskId: task.taskId,
      executionId: orch.executionId,
      stepId: 'reserve',
      attempt: 1,
      status: 'completed',
      output: { reservationId: `res-${orch.executionId}:reserve`, orderId: 'o-1' },
      workerId: w.name,
    });
    expect(seen[0]).toMatchObject({
      executionId: orch.executionId,
      stepId: 'reserve',
      attempt: 1,
      deliveryCount: 1,
    });

    const info = await waitFor(
      async () => {
        const ci = await orch.consumerInfo('inventory.reserve');
        return ci.num_ack_pending === 0 && ci.num_pending === 0 && ci;
      },
      { what: 'the task to be acked' },
    );
    expect(info.name).toBe('task_inventory_reserve');
    expect(info.config).toMatchObject({
      durable_name: 'task_inventory_reserve',
      filter_subject: 'baton.tasks.inventory.reserve',
      ack_policy: 'explicit',
      ack_wait: 30_000_000_000,
      max_deliver: -1,
    });
    expect(info.config.deliver_subject).toBeUndefined();
    const stream = await orch.jsm.streams.info(Streams.TASKS);
    expect(stream.state.messages).toBe(0);
  });

  it('checks registrations: a valid action, one handler per action, before start, at least one', async () => {
    const w = await worker();
    expect(() => w.handle('bad action!', () => 1)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => w.handle('a.b', () => 1, { concurrency: 0 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    await expect(w.start()).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });

    const v = await worker();
    v.handle('a.b', () => 1);
    expect(() => v.handle('a.b', () => 2)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    await v.start();
    expect(() => v.handle('a.c', () => 1)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    await expect(v.start()).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('reports failures: retryable errors by code or name, NonRetryableError as non-retryable', async () => {
    const w = await worker();
    w.handle('payments.charge', (input: { mode: string }) => {
      if (input.mode === 'declined')
        throw new NonRetryableError('CardDeclined', 'card declined', { last4: '4242' });
      throw Object.assign(new Error('gateway timeout'), { code: 'GATEWAY_TIMEOUT' });
    });
    await w.start();

    const declined = orch.task('payments.charge', 'charge', { mode: 'declined' });
    const flaky = orch.task('payments.charge', 'charge2', { mode: 'flaky' });
    await orch.publishTask(declined);
    await orch.publishTask(flaky);

    expect((await orch.resultOf(declined.taskId)).result).toMatchObject({
      status: 'failed',
      error: {
        type: 'CardDeclined',
        message: 'card declined',
        nonRetryable: true,
        details: { last4: '4242' },
      },
    });
    const flakyResult = (await orch.resultOf(flaky.taskId)).result;
    expect(flakyResult).toMatchObject({
      status: 'failed',
      error: { type: 'GATEWAY_TIMEOUT', message: 'gateway timeout' },
    });
    expect(flakyResult.error?.nonRetryable).toBeUndefined();
    expect(flakyResult.output).toBeUndefined();
  });

  it('never runs (or pulls) more than `concurrency` tasks of an action at once', async () => {
    const w = await worker();
    const release = gate();
    let running = 0;
    let maxRunning = 0;
    w.handle(
      'warehouse.pack',
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await release.promise;
        running--;
        return { packed: true };
      },
      { concurrency: 2 },
    );
    await w.start();
    const tasks = Array.from({ length: 6 }, (_, i) => orch.task('warehouse.pack', `pack${i}`, { i }));
    for (const t of tasks) await orch.publishTask(t);

    await waitFor(() => running === 2, { what: 'two handlers running' });
    // Give the worker every chance to take more than it may, then look at what the server handed out.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const info = await orch.consumerInfo('warehouse.pack');
    expect(running).toBe(2);
    expect(info.num_ack_pending).toBe(2);
    expect(info.num_pending).toBe(4);

    release.open();
    await orch.awaitResults(6);
    expect(maxRunning).toBe(2);
    expect(new Set(orch.results.map((r) => r.result.taskId)).size).toBe(6);
  });

  it('keeps a slow task alive with +WPI past a short ack wait, without redelivery', async () => {
    const w = await worker({ ackWaitMs: 1_000 });
    const calls: number[] = [];
    w.handle('shipping.ship', async (_input, ctx) => {
      calls.push(ctx.deliveryCount);
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      return { trackingNumber: 'TRK-1' };
    });
    await w.start();
    const task = orch.task('shipping.ship', 'ship');
    await orch.publishTask(task);

    await orch.resultOf(task.taskId);
    const info = await orch.consumerInfo('shipping.ship');
    expect(info.config.ack_wait).toBe(1_000_000_000);
    expect(calls).toEqual([1]);
    expect(info.num_redelivered).toBe(0);
    expect(info.delivered.consumer_seq).toBe(1);
    expect(orch.resultsFor(task.taskId)).toHaveLength(1);
  });

  it('close() stops pulling, lets running handlers finish, publishes and acks, then closes', async () => {
    const w = await worker();
    const release = gate();
    let started = 0;
    w.handle('notify.email', async () => {
      started++;
      await release.promise;
      return { sent: true };
    });
    await w.start();
    const first = orch.task('notify.email', 'email1');
    await orch.publishTask(first);
    await waitFor(() => started === 1, { what: 'the handler to start' });

    let closed = false;
    const closing = w.close().then(() => (closed = true));
    const second = orch.task('notify.email', 'email2');
    await orch.publishTask(second);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closed).toBe(false);

    release.open();
    await closing;
    expect(started).toBe(1);
    expect((await orch.resultOf(first.taskId)).result.status).toBe('completed');
    // the first task was acked (a work queue drops acked messages); the second is still queued
    await waitFor(async () => (await orch.jsm.streams.info(Streams.TASKS)).state.messages === 1, {
      what: 'only the second task left in the stream',
    });
    expect(orch.resultsFor(second.taskId)).toHaveLength(0);

    const next = await worker();
    next.handle('notify.email', () => ({ sent: true }));
    await next.start();
    expect((await orch.resultOf(second.taskId)).result.status).toBe('completed');
  });

  it('hands unfinished tasks back (-NAK) when handlers outlive the drain timeout', async () => {
    // An ack wait of 10 minutes: only the -NAK can make the task come back within this test.
    const w = await worker({ drainTimeoutMs: 200, ackWaitMs: 600_000 });
    let aborted = false;
    w.handle('notify.sms', (_input, ctx) => {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('aborted'));
        });
      });
    });
    await w.start();
    const task = orch.task('notify.sms', 'sms');
    await orch.publishTask(task);
    await waitFor(async () => (await orch.consumerInfo('notify.sms')).num_ack_pending === 1, {
      what: 'the task to be taken',
    });
    await w.close();
    expect(aborted).toBe(true);
    expect(orch.resultsFor(task.taskId)).toHaveLength(0);

    const next = await worker({ ackWaitMs: 600_000 });
    const deliveries: number[] = [];
    next.handle('notify.sms', (_input, ctx) => {
      deliveries.push(ctx.deliveryCount);
      return { sent: true };
    });
    await next.start();
    expect((await orch.resultOf(task.taskId)).result.status).toBe('completed');
    // nats-server 2.9 rewinds a nak'ed last delivery, so the count may start over; one run either way
    expect(deliveries).toHaveLength(1);
  });

  it('dead-letters a malformed task, terminates it, and goes on with good ones', async () => {
    const w = await worker();
    const handled: string[] = [];
    w.handle('inventory.reserve', (_input, ctx) => {
      handled.push(ctx.taskId);
      return { ok: true };
    });
    await w.start();

    await orch.publishRaw('inventory.reserve', '{"protocol": 1, "this is": not json', {
      traceparent: 'tp-1',
    });
    await orch.publishRaw(
      'inventory.reserve',
      JSON.stringify({ ...orch.task('inventory.reserve', 'x'), protocol: 7 }),
    );
    const good = orch.task('inventory.reserve', 'reserve');
    await orch.publishTask(good);

    await orch.resultOf(good.taskId);
    const dead = await waitFor(() => orch.deadLetters.length >= 2 && orch.deadLetters, {
      what: 'two dead letters',
    });
    expect(handled).toEqual([good.taskId]);
    const durable = taskDurable('inventory.reserve');
    const [bad, wrongProtocol] = dead;
    expect(bad?.subject).toBe(Subjects.deadLetter(Streams.TASKS, durable));
    expect(bad?.headers).toMatchObject({
      traceparent: 'tp-1',
      [Headers.DLQ_STREAM]: Streams.TASKS,
      [Headers.DLQ_CONSUMER]: durable,
      [Headers.DLQ_SUBJECT]: 'baton.tasks.inventory.reserve',
      [Headers.DLQ_SEQUENCE]: '1',
      [Headers.DLQ_DELIVERIES]: '1',
      [Headers.DLQ_ERROR_CODE]: 'BAD_REQUEST',
    });
    expect(bad?.record).toMatchObject({
      stream: Streams.TASKS,
      consumer: durable,
      subject: 'baton.tasks.inventory.reserve',
      streamSequence: 1,
      deliveries: 1,
      errorCode: 'BAD_REQUEST',
    });
    expect(Buffer.from(bad?.record.data ?? '', 'base64').toString()).toBe(
      '{"protocol": 1, "this is": not json',
    );
    expect(wrongProtocol?.record).toMatchObject({
      errorCode: 'VALIDATION_FAILED',
      error: expect.stringMatching(/protocol 7/),
    });

    const info = await waitFor(
      async () => {
        const ci = await orch.consumerInfo('inventory.reserve');
        return ci.num_ack_pending === 0 && ci;
      },
      { what: 'no task left unacknowledged' },
    );
    expect(info.num_pending).toBe(0);
    expect((await orch.jsm.streams.info(Streams.TASKS)).state.messages).toBe(0);
  });

  it('shares one durable consumer between several workers: each task is handled once', async () => {
    const barrier = gate();
    let running = 0;
    const handledBy = new Map<string, string[]>();
    const pool = await Promise.all([worker(), worker(), worker()]);
    for (const w of pool) {
      w.handle(
        'warehouse.pack',
        async (_input, ctx) => {
          handledBy.set(ctx.taskId, [...(handledBy.get(ctx.taskId) ?? []), w.name]);
          running++;
          if (running === 3) barrier.open();
          await barrier.promise;
          return { by: w.name };
        },
        { concurrency: 1 },
      );
    }
    await Promise.all(pool.map((w) => w.start()));
    const tasks = Array.from({ length: 30 }, (_, i) => orch.task('warehouse.pack', `item${i}`, { i }));
    for (const t of tasks) await orch.publishTask(t);

    await orch.awaitResults(30);
    expect(handledBy.size).toBe(30);
    expect([...handledBy.values()].every((by) => by.length === 1)).toBe(true);
    // the barrier opened only once three handlers ran at once, one per worker (concurrency 1 each)
    expect(new Set([...handledBy.values()].map((by) => by[0])).size).toBe(3);
    const consumers = await orch.jsm.consumers.list(Streams.TASKS).next();
    expect(consumers.map((c) => c.name)).toEqual(['task_warehouse_pack']);
  });

  it('answers a redelivered task it already answered from memory: same result, same Nats-Msg-Id, handler not re-run', async () => {
    const w = await worker();
    let calls = 0;
    w.handle('payments.charge', (_input, ctx) => {
      calls++;
      return { chargeId: `ch-${ctx.idempotencyKey}`, call: calls };
    });
    await w.start();
    const task = orch.task('payments.charge', 'charge');
    await orch.publishTask(task);
    const first = await orch.resultOf(task.taskId);
    // The same task again as a new stream message (as after a lost ack): answered from the cache.
    await orch.publishRaw('payments.charge', JSON.stringify(task));
    await waitFor(async () => (await orch.jsm.streams.info(Streams.TASKS)).state.messages === 0, {
      what: 'the second copy to be acked',
    });
    expect(calls).toBe(1);
    // The re-published result carried the same Nats-Msg-Id, so BATON_ORCH dropped it as a duplicate.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(orch.resultsFor(task.taskId)).toHaveLength(1);
    expect(first.result.output).toEqual({ chargeId: `ch-${orch.executionId}:charge`, call: 1 });
    const orchStream = await orch.jsm.streams.info(Streams.ORCH);
    expect(orchStream.state.last_seq).toBe(1);
  });

  it('creates the consumer again when it is deleted under a running worker', async () => {
    const w = await worker();
    w.handle('inventory.reserve', () => ({ ok: true }));
    await w.start();
    const before = orch.task('inventory.reserve', 'r1');
    await orch.publishTask(before);
    await orch.resultOf(before.taskId);

    // nats-server 2.9 may answer "directory not empty" while it still writes the consumer's store: retry.
    await waitFor(
      () =>
        orch.jsm.consumers.delete(Streams.TASKS, taskDurable('inventory.reserve')).catch((err: Error) => {
          if (/consumer not found/.test(err.message)) return true;
          throw err;
        }),
      { what: 'the consumer to be deleted' },
    );
    await waitFor(() => orch.consumerInfo('inventory.reserve').then(() => true), {
      what: 'the worker to create the consumer again',
    });
    const after = orch.task('inventory.reserve', 'r2');
    await orch.publishTask(after);
    expect((await orch.resultOf(after.taskId)).result.status).toBe('completed');
  });

  it('waits for the task stream when it starts before the services created it', async () => {
    await orch.jsm.streams.delete(Streams.TASKS);
    const w = await worker();
    w.handle('inventory.reserve', () => ({ ok: true }));
    let started = false;
    const starting = w.start().then(() => (started = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(started).toBe(false);

    await orch.jsm.streams.add({
      name: Streams.TASKS,
      subjects: [Subjects.tasksAll],
      retention: 'workqueue',
    });
    await starting;
    const task = orch.task('inventory.reserve', 'reserve');
    await orch.publishTask(task);
    expect((await orch.resultOf(task.taskId)).result.status).toBe('completed');
  });

  it('survives a nats-server restart, also with a task in flight', async () => {
    const w = await worker({ ackWaitMs: 5_000 });
    const inFlight = gate();
    const handled: string[] = [];
    w.handle('shipping.ship', async (input: { wait?: boolean }, ctx) => {
      handled.push(ctx.taskId);
      if (input.wait === true) await inFlight.promise;
      return { shipped: ctx.taskId };
    });
    await w.start();

    const before = orch.task('shipping.ship', 'before');
    await orch.publishTask(before);
    await orch.resultOf(before.taskId);

    const during = orch.task('shipping.ship', 'during', { wait: true });
    await orch.publishTask(during);
    await waitFor(() => handled.includes(during.taskId), { what: 'the in-flight task to start' });
    await nats.restart();
    inFlight.open(); // the result is published once the worker has reconnected

    expect((await orch.resultOf(during.taskId, 60_000)).result.status).toBe('completed');

    const after = orch.task('shipping.ship', 'after');
    await waitFor(
      async () => {
        await orch.publishTask(after);
        return true;
      },
      { what: 'JetStream to accept the task after the restart', timeoutMs: 60_000 },
    );
    expect((await orch.resultOf(after.taskId, 60_000)).result.status).toBe('completed');
    const info = await waitFor(
      async () => {
        const ci = await orch.consumerInfo('shipping.ship');
        return ci.num_ack_pending === 0 && ci.num_pending === 0 && ci;
      },
      { what: 'every task acked', timeoutMs: 60_000 },
    );
    expect(info.name).toBe('task_shipping_ship');

    // and after a crash (SIGKILL) of the server
    await nats.kill();
    await nats.restart();
    const afterCrash = orch.task('shipping.ship', 'after-crash');
    await waitFor(
      async () => {
        await orch.publishTask(afterCrash);
        return true;
      },
      { what: 'JetStream to accept the task after the crash', timeoutMs: 60_000 },
    );
    expect((await orch.resultOf(afterCrash.taskId, 60_000)).result.status).toBe('completed');
    expect(handled.filter((id) => id === afterCrash.taskId)).toHaveLength(1);
  });
});
