/**
 * `npm run bench [-- --json] [-- --quick]`: seq5 and fan10 through the real services and a worker, beside
 * the plain JetStream 5-hop floor, all in one run on this machine. Everything runs on its own nats-server
 * and database; nothing shared is touched.
 *
 * Per workload: completed workflows/s and steps/s with up to 200 executions in flight (saturated), then
 * start-to-finish p50/p95/p99 one execution at a time, once the projections have caught up (the saturated
 * phase has warmed the services up). "Completed" is the completion notice
 * `baton.events.execution.<id>.completed`; the run also waits until the state-store holds every execution
 * as COMPLETED in PostgreSQL and reports how long after the last notice that took.
 */
import type { WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { Stack } from '../e2e/support/stack';
import { listExecutions } from '../e2e/support/workflows';
import { cpuDelta, cpuSample } from './cpu';
import { batonEnvironment } from './service-env';
import { measureFloor } from './floor';
import { settled } from './settle';
import { publishStart } from './start-command';
import { percentiles } from './stats';
import type { Figures } from './stats';

interface Workload {
  name: 'seq5' | 'fan10';
  steps: number;
  definition: WorkflowDefinition;
}

const ACTION = 'bench.noop';

const seq5: Workload = {
  name: 'seq5',
  steps: 5,
  definition: {
    id: 'bench-seq5',
    version: 1,
    triggers: [{ type: 'event', subject: 'events.bench.seq5' }],
    steps: Array.from({ length: 5 }, (_, i) => ({
      id: `s${i + 1}`,
      type: 'task' as const,
      action: ACTION,
      ...(i > 0 ? { dependencies: [`s${i}`] } : {}),
    })),
  },
};

const fan10: Workload = {
  name: 'fan10',
  steps: 11,
  definition: {
    id: 'bench-fan10',
    version: 1,
    triggers: [{ type: 'event', subject: 'events.bench.fan10' }],
    steps: [
      ...Array.from({ length: 10 }, (_, i) => ({ id: `p${i + 1}`, type: 'task' as const, action: ACTION })),
      {
        id: 'final',
        type: 'task' as const,
        action: ACTION,
        dependencies: Array.from({ length: 10 }, (_, i) => `p${i + 1}`),
      },
    ],
  },
};

interface WorkloadResult extends Figures {
  executions: number;
  persistedAfterMs: number;
  /** CPU milliseconds per completed workflow in the saturated phase, by process. */
  cpuMsPerWorkflow: Record<string, number>;
}

async function runWorkload(
  stack: Stack,
  workload: Workload,
  opts: { executions: number; inFlight: number; latencySamples: number },
): Promise<WorkloadResult> {
  const reg = await stack.http('orchestrator', 'POST', '/v1/workflows', workload.definition);
  if (reg.status !== 201 && reg.status !== 200)
    throw new Error(`register ${workload.name}: ${JSON.stringify(reg.body)}`);
  const nc = await stack.connection();
  const js = await stack.js();
  const waiters = new Map<string, () => void>();
  const sub = nc.subscribe(`baton.events.execution.${workload.definition.id}.*`);
  void (async () => {
    for await (const m of sub) {
      const body = m.json<{ executionId: string; status: string }>();
      if (body.status !== 'COMPLETED')
        throw new Error(`${workload.name} execution ${body.executionId} ${body.status}`);
      waiters.get(body.executionId)?.();
    }
  })();
  let counter = 0;
  const subject =
    workload.definition.triggers?.[0]?.type === 'event' ? workload.definition.triggers[0].subject : '';
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const executionId = `${workload.name}-${counter++}`;
      const start = performance.now();
      waiters.set(executionId, () => {
        waiters.delete(executionId);
        resolve(performance.now() - start);
      });
      publishStart(js, workload.definition.id, executionId, { n: counter }, `bench:${subject}`).catch(reject);
    });

  for (let i = 0; i < 30; i++) await once();

  const cpuBefore = cpuSample(stack);
  const started = performance.now();
  let launched = 0;
  await Promise.all(
    Array.from({ length: opts.inFlight }, async () => {
      while (launched < opts.executions) {
        launched++;
        await once();
      }
    }),
  );
  const finished = performance.now();
  const cpu = cpuDelta(cpuBefore, cpuSample(stack));
  const cpuMsPerWorkflow: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpu)) {
    cpuMsPerWorkflow[name] = Number(((seconds * 1000) / opts.executions).toFixed(3));
  }
  const seconds = (finished - started) / 1000;
  const expected = 30 + opts.executions;
  await waitFor(
    async () => {
      const all = await listExecutions(stack, workload.definition.id);
      return all.filter((e) => e.status === 'COMPLETED').length >= expected ? true : undefined;
    },
    {
      timeoutMs: 300_000,
      intervalMs: 200,
      what: `state-store holds ${expected} ${workload.name} executions`,
    },
  );
  const persistedAfterMs = performance.now() - finished;
  // One at a time, once the saturated phase has warmed the services up and the projections have caught
  // up: the latency of a running system (measured cold, before V8 optimised the hot paths, it is about
  // twice as high).
  await settled(nc);
  const latencies: number[] = [];
  for (let i = 0; i < opts.latencySamples; i++) latencies.push(await once());
  sub.unsubscribe();
  return {
    executions: opts.executions,
    workflowsPerSec: opts.executions / seconds,
    stepsPerSec: (opts.executions * workload.steps) / seconds,
    ...percentiles(latencies),
    persistedAfterMs,
    cpuMsPerWorkflow,
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const quick = process.argv.includes('--quick');
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const executions = quick ? 300 : 3000;
  const latencySamples = quick ? 50 : 300;
  log(`starting the stack (own nats-server and database)...`);
  const stack = await Stack.start({ env: { ...batonEnvironment(), LOG_LEVEL: 'warn' } });
  try {
    await stack.startWorker({ actions: [ACTION], concurrency: 256 });
    log('floor: plain JetStream 5-hop chain...');
    const floor = await measureFloor(stack.nats.url, { chains: executions, inFlight: 200, latencySamples });
    log('seq5...');
    const s5 = await runWorkload(stack, seq5, { executions, inFlight: 200, latencySamples });
    log('fan10...');
    const f10 = await runWorkload(stack, fan10, {
      executions: Math.round(executions / 2),
      inFlight: 200,
      latencySamples,
    });
    const result = { seq5: s5, fan10: f10, floor };
    if (json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const row = (name: string, f: Figures & { persistedAfterMs?: number }) =>
        `| ${name.padEnd(6)} | ${f.workflowsPerSec.toFixed(0).padStart(12)} | ${f.stepsPerSec.toFixed(0).padStart(9)} | ${f.p50Ms.toFixed(2).padStart(7)} | ${f.p95Ms.toFixed(2).padStart(7)} | ${f.p99Ms.toFixed(2).padStart(7)} | ${f.persistedAfterMs === undefined ? '      -' : f.persistedAfterMs.toFixed(0).padStart(7)} |`;
      log('');
      log('| bench  | workflows/s  |   steps/s |  p50 ms |  p95 ms |  p99 ms | +PG ms  |');
      log('|--------|--------------|-----------|---------|---------|---------|---------|');
      log(row('seq5', s5));
      log(row('fan10', f10));
      log(row('floor', floor));
      log('');
      log(
        `seq5 vs floor: ${(s5.workflowsPerSec / floor.workflowsPerSec).toFixed(2)}x throughput, ${(s5.p50Ms / floor.p50Ms).toFixed(1)}x p50 latency. ` +
          `"+PG ms": time after the last completion until the state-store held every execution in PostgreSQL.`,
      );
      log('');
      log(
        'CPU ms per workflow in the saturated phase (where the time goes; 2 cores = 2000 ms of CPU per second):',
      );
      for (const [name, w] of [['seq5', s5] as const, ['fan10', f10] as const]) {
        const parts = Object.entries(w.cpuMsPerWorkflow)
          .filter(([, ms]) => ms >= 0.01)
          .sort((a, b) => b[1] - a[1])
          .map(([party, ms]) => `${party} ${ms.toFixed(2)}`);
        log(`  ${name}: ${parts.join(', ')}`);
      }
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
