import { Subjects, type TaskCancelNotice } from '@baton/contracts';
import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

import { NonRetryableError, type TaskContext, Worker, type WorkerLogger } from '../src';
import { OrchestratorFixture } from './orchestrator.fixture';

const quiet: WorkerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Heartbeats, cancellation, deadlines and non-retryable errors of the SDK against a real nats-server. */
describe('Worker: heartbeats, cancel notices and deadlines (integration)', () => {
  let nats: NatsServerHandle;
  let orch: OrchestratorFixture;
  let worker: Worker;

  beforeAll(async () => {
    nats = await startNatsServer();
    orch = await OrchestratorFixture.start(nats.url);
    worker = await Worker.connect({ servers: nats.url, logger: quiet, ackWaitMs: 1000 });
    worker.handle('long.job', async (input: { steps: number }, ctx) => {
      for (let i = 1; i <= input.steps; i++) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        ctx.heartbeat({ done: i });
      }
      return { steps: input.steps, deliveries: ctx.deliveryCount };
    });
    worker.handle('wait.forever', (_input, ctx: TaskContext) => {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
      });
    });
    worker.handle('card.charge', () => {
      throw new NonRetryableError('CardDeclined', 'card declined', { code: 'do_not_honor' });
    });
    worker.handle('undo.reserve', (_input, ctx) => ({ undone: ctx.compensates?.output }));
    await worker.start();
  });

  afterAll(async () => {
    await worker?.close();
    await orch?.close();
    await nats?.cleanup();
  });

  it('publishes heartbeats to baton.orch.heartbeat.<executionId> and keeps a task longer than its ack wait', async () => {
    const task = orch.task('long.job', 'crunch', { steps: 4 });
    await orch.publishTask(task);
    const { result } = await orch.resultOf(task.taskId);
    // 1.6 s of work with a 1 s ack wait: never redelivered.
    expect(result).toMatchObject({ status: 'completed', output: { steps: 4, deliveries: 1 } });
    expect(orch.resultsFor(task.taskId)).toHaveLength(1);
    const beats = orch.heartbeats.filter((h) => h.heartbeat.taskId === task.taskId);
    expect(beats.map((h) => h.subject)).toEqual(beats.map(() => Subjects.taskHeartbeat(orch.executionId)));
    // Four calls 400 ms apart, at most one heartbeat a second: the first, then the latest details.
    const done = beats.map((h) => (h.heartbeat.details as { done: number }).done);
    expect(done[0]).toBe(1);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(4);
    for (let i = 1; i < beats.length; i++) {
      expect(done[i]).toBeGreaterThan(done[i - 1] ?? 0);
      const gap = Date.parse(beats[i]?.heartbeat.at ?? '') - Date.parse(beats[i - 1]?.heartbeat.at ?? '');
      expect(gap).toBeGreaterThanOrEqual(1000);
    }
    expect(beats[0]?.heartbeat).toMatchObject({
      protocol: 1,
      kind: 'heartbeat',
      executionId: orch.executionId,
      stepId: 'crunch',
      attempt: 1,
    });
  });

  it('aborts a running task when a cancel notice names it, and reports it CANCELLED', async () => {
    const task = orch.task('wait.forever', 'park');
    await orch.publishTask(task);
    await waitFor(async () => (await orch.consumerInfo('wait.forever')).num_ack_pending === 1, {
      what: 'the task to be running',
    });
    const notice: TaskCancelNotice = {
      executionId: orch.executionId,
      taskIds: [task.taskId],
      reason: 'execution terminated by an operator',
    };
    orch.nc.publish(Subjects.taskCancelled(orch.executionId), JSON.stringify(notice));
    const { result } = await orch.resultOf(task.taskId);
    expect(result).toMatchObject({
      status: 'failed',
      error: { type: 'CANCELLED', message: 'execution terminated by an operator', nonRetryable: true },
    });
    await waitFor(async () => (await orch.consumerInfo('wait.forever')).num_ack_pending === 0, {
      what: 'the cancelled task to be acked',
    });
  });

  it('aborts a task at its deadline and reports a retryable TIMEOUT', async () => {
    const now = Date.now();
    const task = orch.task('wait.forever', 'bounded', undefined, {
      scheduledAt: new Date(now).toISOString(),
      deadline: new Date(now + 500).toISOString(),
    });
    await orch.publishTask(task);
    const { result } = await orch.resultOf(task.taskId);
    expect(result.status).toBe('failed');
    expect(result.error?.type).toBe('TIMEOUT');
    expect(result.error?.nonRetryable).toBeUndefined();
  });

  it('reports a NonRetryableError as a non-retryable failure with its type and details', async () => {
    const task = orch.task('card.charge', 'charge');
    await orch.publishTask(task);
    const { result } = await orch.resultOf(task.taskId);
    expect(result.error).toEqual({
      type: 'CardDeclined',
      message: 'card declined',
      nonRetryable: true,
      details: { code: 'do_not_honor' },
    });
  });

  it('gives a compensation task what it compensates', async () => {
    const task = orch.task('undo.reserve', 'reserve-undo', null, {
      compensation: true,
      compensates: { stepId: 'reserve', input: { sku: 'a' }, output: { reservationId: 'r-9' } },
    });
    await orch.publishTask(task);
    const { result } = await orch.resultOf(task.taskId);
    expect(result.output).toEqual({ undone: { reservationId: 'r-9' } });
  });
});
