/**
 * `node dist/bench/tracing-bench.js [--json] [--quick]` (after `npm run build`): what tracing costs. seq5
 * (5 sequential no-op tasks) through the five services and a worker, with tracing off (no
 * `OTEL_EXPORTER_OTLP_ENDPOINT`) and with every service exporting its spans by OTLP/HTTP to a receiver in
 * this process, in one run: off, on, off, on (each round on a fresh stack of its own nats-server and
 * database), so drift of the machine hits both alike. Reports saturated workflows/s, one-at-a-time
 * latency, the on/off throughput ratio and the spans received per execution.
 */
import type { WorkflowDefinition } from '@baton/contracts';

import { OtlpReceiver } from '../e2e/support/otlp-receiver';
import { Stack } from '../e2e/support/stack';
import { publishStart } from './start-command';
import { percentiles } from './stats';
import type { Figures } from './stats';

const ACTION = 'bench.noop';

const seq5: WorkflowDefinition = {
  id: 'bench-seq5',
  version: 1,
  steps: Array.from({ length: 5 }, (_, i) => ({
    id: `s${i + 1}`,
    type: 'task' as const,
    action: ACTION,
    ...(i > 0 ? { dependencies: [`s${i}`] } : {}),
  })),
};

interface Round extends Figures {
  tracing: boolean;
  executions: number;
  spansPerExecution: number;
}

async function round(
  tracing: boolean,
  receiver: OtlpReceiver,
  opts: { executions: number; latencySamples: number; inFlight: number; tag: string },
): Promise<Round> {
  const env: NodeJS.ProcessEnv = tracing
    ? { LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }
    : { LOG_LEVEL: 'warn' };
  const stack = await Stack.start({ env });
  try {
    await stack.startWorker({ actions: [ACTION], concurrency: 256 });
    const reg = await stack.http('orchestrator', 'POST', '/v1/workflows', seq5);
    if (reg.status !== 201) throw new Error(`register seq5: ${JSON.stringify(reg.body)}`);
    const nc = await stack.connection();
    const js = await stack.js();
    const waiters = new Map<string, () => void>();
    const sub = nc.subscribe(`baton.events.execution.${seq5.id}.*`);
    void (async () => {
      for await (const m of sub) {
        const body = m.json<{ executionId: string; status: string }>();
        if (body.status !== 'COMPLETED') throw new Error(`execution ${body.executionId} ${body.status}`);
        waiters.get(body.executionId)?.();
      }
    })();
    let counter = 0;
    const once = () =>
      new Promise<number>((resolve, reject) => {
        const executionId = `${opts.tag}-${counter++}`;
        const start = performance.now();
        waiters.set(executionId, () => {
          waiters.delete(executionId);
          resolve(performance.now() - start);
        });
        publishStart(js, seq5.id, executionId, { n: counter }, 'bench:tracing').catch(reject);
      });

    for (let i = 0; i < 30; i++) await once();
    const latencies: number[] = [];
    for (let i = 0; i < opts.latencySamples; i++) latencies.push(await once());
    const spansBefore = receiver.spans.length;
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
    const seconds = (performance.now() - started) / 1000;
    sub.unsubscribe();
    // Let the batch processors deliver what they hold (their schedule delay is 5 s by default).
    if (tracing) await new Promise((resolve) => setTimeout(resolve, 6_000));
    const spans = receiver.spans.length - spansBefore;
    receiver.clear();
    return {
      tracing,
      executions: opts.executions,
      workflowsPerSec: opts.executions / seconds,
      stepsPerSec: (opts.executions * 5) / seconds,
      ...percentiles(latencies),
      spansPerExecution: tracing ? spans / opts.executions : 0,
    };
  } finally {
    await stack.stop();
  }
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const quick = process.argv.includes('--quick');
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const opts = { executions: quick ? 300 : 2000, latencySamples: quick ? 50 : 200, inFlight: 200 };
  const receiver = await OtlpReceiver.start();
  const rounds: Round[] = [];
  try {
    for (const [i, tracing] of [false, true, false, true].entries()) {
      log(`round ${i + 1}: seq5 with tracing ${tracing ? 'exporting' : 'off'}...`);
      rounds.push(await round(tracing, receiver, { ...opts, tag: `r${i + 1}` }));
    }
  } finally {
    await receiver.close();
  }
  const off = rounds.filter((r) => !r.tracing);
  const on = rounds.filter((r) => r.tracing);
  const summary = {
    offWorkflowsPerSec: mean(off.map((r) => r.workflowsPerSec)),
    onWorkflowsPerSec: mean(on.map((r) => r.workflowsPerSec)),
    offP50Ms: mean(off.map((r) => r.p50Ms)),
    onP50Ms: mean(on.map((r) => r.p50Ms)),
    spansPerExecution: mean(on.map((r) => r.spansPerExecution)),
    rejectedExports: receiver.rejected,
  };
  const ratio = summary.onWorkflowsPerSec / summary.offWorkflowsPerSec;
  if (json) {
    process.stdout.write(`${JSON.stringify({ rounds, ...summary, throughputRatio: ratio })}\n`);
    return;
  }
  log('');
  log('| round | tracing   | workflows/s | steps/s | p50 ms | p95 ms | p99 ms | spans/execution |');
  log('|-------|-----------|-------------|---------|--------|--------|--------|-----------------|');
  rounds.forEach((r, i) =>
    log(
      `| ${String(i + 1).padEnd(5)} | ${(r.tracing ? 'exporting' : 'off').padEnd(9)} | ${r.workflowsPerSec.toFixed(0).padStart(11)} | ${r.stepsPerSec.toFixed(0).padStart(7)} | ${r.p50Ms.toFixed(2).padStart(6)} | ${r.p95Ms.toFixed(2).padStart(6)} | ${r.p99Ms.toFixed(2).padStart(6)} | ${r.tracing ? r.spansPerExecution.toFixed(1).padStart(15) : '              -'} |`,
    ),
  );
  log('');
  log(
    `seq5 throughput with tracing exporting / off: ${ratio.toFixed(3)} ` +
      `(${summary.onWorkflowsPerSec.toFixed(0)} vs ${summary.offWorkflowsPerSec.toFixed(0)} workflows/s); ` +
      `p50 ${summary.onP50Ms.toFixed(2)} vs ${summary.offP50Ms.toFixed(2)} ms; rejected exports ${summary.rejectedExports}.`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`tracing bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
