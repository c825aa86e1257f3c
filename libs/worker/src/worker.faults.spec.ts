import { FakeDelivery, FakeTransport, Recorder, quiet, task } from '../test/fakes';
import { ProcessWorkerFaults, WORKER_FAULTS_ENV, type WorkerFaults } from './worker.faults';
import { TaskProcessor } from './task.processor';

/** Stands in for process.exit: stops the processor right at the fault point, as a crash would. */
class Crash extends Error {}

function processorWith(faults: WorkerFaults | undefined, effects: string[]) {
  const recorder = new Recorder();
  const transport = new FakeTransport(recorder);
  const processor = new TaskProcessor(
    async (_input, ctx) => {
      effects.push(ctx.idempotencyKey);
      return { ok: true };
    },
    transport,
    {
      action: 'payments.charge',
      stream: 'BATON_TASKS',
      durable: 'task_payments_charge',
      workerId: 'worker-1',
      ackWaitMs: 30_000,
      logger: quiet,
      publishRetry: { initialMs: 1, maxMs: 2 },
      ...(faults === undefined ? {} : { faults }),
    },
  );
  return { recorder, transport, processor };
}

describe('worker fault points', () => {
  it('are off when the variable is unset or empty (production)', () => {
    expect(ProcessWorkerFaults.fromEnv({}).enabled).toBe(false);
    expect(ProcessWorkerFaults.fromEnv({ [WORKER_FAULTS_ENV]: '' }).enabled).toBe(false);
    const exits: string[] = [];
    const off = new ProcessWorkerFaults(
      '',
      (p) => exits.push(p),
      () => 0,
    );
    off.hit('after-effect');
    expect(exits).toEqual([]);
  });

  it('parse point:probability and reject anything else', () => {
    expect(ProcessWorkerFaults.fromEnv({ [WORKER_FAULTS_ENV]: 'after-effect:0.05' }).enabled).toBe(true);
    for (const bad of [
      'after-effect',
      'after-effect:',
      'after-effect:2',
      'before-effect:0.1',
      'after-effect:x',
    ]) {
      expect(() => new ProcessWorkerFaults(bad)).toThrow(WORKER_FAULTS_ENV);
    }
  });

  it('fire with the configured probability', () => {
    const exits: string[] = [];
    const faults = new ProcessWorkerFaults(
      'after-effect:0.3',
      (p) => exits.push(p),
      () => 0.29,
    );
    faults.hit('after-effect');
    expect(exits).toEqual(['after-effect']);
    const never = new ProcessWorkerFaults(
      'after-effect:0.3',
      (p) => exits.push(p),
      () => 0.3,
    );
    never.hit('after-effect');
    expect(exits).toHaveLength(1);
  });

  it('after-effect crashes after the handler ran and before the result is published or the task acked', async () => {
    const effects: string[] = [];
    const faults = new ProcessWorkerFaults(
      'after-effect:1',
      () => {
        throw new Crash('fault injected: after-effect');
      },
      () => 0,
    );
    const { recorder, transport, processor } = processorWith(faults, effects);
    const delivery = new FakeDelivery(recorder, 'd1', task(), {}, 7, 1);
    await processor.process(delivery);
    expect(effects).toEqual(['exec1:charge']);
    expect(transport.published).toEqual([]);
    expect(recorder.events.filter((e) => e.startsWith('ack:'))).toEqual([]);
  });

  it('leave the processor unchanged when off: the result is published, then the task acked', async () => {
    const effects: string[] = [];
    const { recorder, processor } = processorWith(new ProcessWorkerFaults(''), effects);
    await processor.process(new FakeDelivery(recorder, 'd1', task(), {}, 7, 1));
    expect(effects).toEqual(['exec1:charge']);
    expect(recorder.events).toEqual([
      'publish-start:result:exec1.charge.1',
      'puback:result:exec1.charge.1',
      'ack:d1',
    ]);
  });
});
