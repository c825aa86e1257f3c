import { waitFor } from '@baton/testing';

import { Stack } from './support/stack';
import { duplicatedEffects, listExecutions, sequenceWorkflow, waitForTerminal } from './support/workflows';

/**
 * (c) The orchestrator is SIGKILLed with 100 executions in flight and restarted: all complete, no effect is
 * applied twice, nothing is stuck. A second round kills it at the worst moment — right after a state write,
 * before its messages are published — through the `after-state-write` fault point.
 */
describe('orchestrator crash with executions in flight', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({ actions: ['crash.step'], delayMs: 20, concurrency: 16 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('SIGKILL mid-flight: all 100 complete, each effect once, none stuck', async () => {
    const def = sequenceWorkflow('crash-seq', 'events.crash.started', 'crash.step', 5);
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    const js = await stack.js();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        js.publish('events.crash.started', JSON.stringify({ n: i }), { msgID: `crash-${i}` }),
      ),
    );
    // In flight: some executions started, none can have finished all five steps of 20 ms each... wait for
    // the first completions so that the kill lands with work at every stage.
    await waitFor(
      async () => {
        const all = await listExecutions(stack, 'crash-seq');
        const done = all.filter((e) => e.status === 'COMPLETED').length;
        return done >= 1 && done < 100 ? true : undefined;
      },
      { intervalMs: 20, what: 'some executions completed and others in flight' },
    );
    await stack.killService('orchestrator');
    await stack.startService('orchestrator');

    const done = await waitForTerminal(stack, 'crash-seq', 100);
    expect(done.filter((e) => e.status === 'COMPLETED')).toHaveLength(100);
    const effects = stack.effects().filter((e) => e.action === 'crash.step');
    expect(duplicatedEffects(effects)).toEqual([]);
    expect(effects).toHaveLength(500);
  });

  it('crash between state write and publish (fault point): every execution still completes once', async () => {
    const def = sequenceWorkflow('crash-fault', 'events.fault.started', 'crash.step', 5);
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    await stack.killService('orchestrator');
    await stack.startService('orchestrator', { BATON_FAULTS: 'after-state-write:0.02' });
    const js = await stack.js();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        js.publish('events.fault.started', JSON.stringify({ n: i }), { msgID: `fault-${i}` }),
      ),
    );
    let restarts = 0;
    const orchestrator = stack.service('orchestrator');
    const done = await waitFor(
      async () => {
        if (!orchestrator.running) {
          restarts++;
          await stack.startService('orchestrator', {
            BATON_FAULTS: restarts < 5 ? 'after-state-write:0.02' : '',
          });
        }
        const all = await listExecutions(stack, 'crash-fault');
        const terminal = all.filter((e) => e.status === 'COMPLETED' || e.status === 'FAILED');
        return terminal.length >= 50 ? terminal : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 100, what: '50 executions terminal under injected crashes' },
    );
    expect(restarts).toBeGreaterThan(0);
    expect(done.filter((e) => e.status === 'COMPLETED')).toHaveLength(50);
    const keys = stack.effects().filter((e) => e.key.includes(':s'));
    expect(duplicatedEffects(keys)).toEqual([]);
  });
});
