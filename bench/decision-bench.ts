/**
 * `node dist/bench/decision-bench.js [--json] [--quick] [--nice-projections] [--pause-projections]
 * [--tracing] [--cpu-prof DIR]`: the latency a decision step
 * adds to an execution. Two workflows run one at a time, interleaved: `task1` (one no-op task) and
 * `decide1` (a decision over a 20-rule category, then the same task). The added latency is the difference
 * of their percentiles. Own nats-server and database, all five services and a worker, as in `bench.ts`.
 *
 * The services are warmed up first (`WARM_UP` executions of both, 32 in flight) and left to settle, so
 * the figures are those of a running system: measured cold, V8 has not yet optimised the hot paths and
 * every figure is about twice as high. `--nice-projections` runs the state-store and the telemetry at
 * niceness 10, as infra/systemd's units do. `--pause-projections` is a diagnostic: it stops the state-store
 * and the telemetry (SIGSTOP) while the samples are taken and resumes them afterwards (SIGCONT), then waits
 * until they have caught up with the history kept in JetStream; it shows what the projections' CPU costs
 * the execution path on this machine. The CPU each process used per pair of executions is reported too,
 * and the messages each connection published to and received from the nats-server per pair (`/connz`).
 * `BATON_*` variables of the environment are passed on to the services (to try a setting).
 * `--cpu-prof DIR` has every service write a V8 CPU profile of its whole run (warm-up included) into DIR
 * (relative to the repository's root) when it stops.
 * `--tracing` has every service export its spans by OTLP/HTTP to a receiver in this process (as
 * `tracing-bench` does), to measure the decision with tracing on.
 */
import type { WorkflowDefinition } from '@baton/contracts';

import { OtlpReceiver } from '../e2e/support/otlp-receiver';
import { Stack } from '../e2e/support/stack';
import { cpuDelta, cpuSample } from './cpu';
import { measureDecisionFloor } from './decision-floor';
import { trafficDelta, trafficSample } from './nats-traffic';
import { batonEnvironment } from './service-env';
import { settled } from './settle';
import { publishStart } from './start-command';
import { percentiles } from './stats';

const ACTION = 'bench.noop';
const WARM_UP = 4000;
const WARM_UP_IN_FLIGHT = 32;
const CATEGORY = 'bench-category';

const task1: WorkflowDefinition = {
  id: 'bench-task1',
  version: 1,
  steps: [{ id: 'work', type: 'task', action: ACTION }],
};

const decide1: WorkflowDefinition = {
  id: 'bench-decide1',
  version: 1,
  steps: [
    {
      id: 'decide',
      type: 'decision',
      action: CATEGORY,
      parameters: { total: '{% $input.total %}', country: 'PT' },
      branches: { big: ['work'], default: ['work'] },
    },
    { id: 'work', type: 'task', action: ACTION, dependencies: ['decide'] },
  ],
};

/** 20 rules: totals above 100, 200, ... 2000, each with a country condition, priorities 1..20. */
function rules(): Record<string, unknown>[] {
  return Array.from({ length: 20 }, (_, i) => ({
    id: `bench-rule-${i + 1}`,
    name: `total above ${(i + 1) * 100}`,
    category: CATEGORY,
    priority: i + 1,
    enabled: true,
    condition: {
      all: [
        { fact: 'total', operator: 'greaterThan', value: (i + 1) * 100 },
        { fact: 'country', operator: 'in', value: ['PT', 'ES', 'FR'] },
      ],
    },
    actions: [{ type: i >= 10 ? 'big' : 'small' }],
  }));
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const quick = process.argv.includes('--quick');
  const samples = quick ? 60 : 300;
  const warmUp = quick ? 1000 : WARM_UP;
  const niceProjections = process.argv.includes('--nice-projections');
  const pauseProjections = process.argv.includes('--pause-projections');
  const tracing = process.argv.includes('--tracing');
  const profileAt = process.argv.indexOf('--cpu-prof');
  const profileDir = profileAt >= 0 ? process.argv[profileAt + 1] : undefined;
  if (profileAt >= 0 && !profileDir) throw new Error('--cpu-prof needs a directory');
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  log('starting the stack (own nats-server and database)...');
  const receiver = tracing ? await OtlpReceiver.start() : undefined;
  const stack = await Stack.start({
    env: {
      ...batonEnvironment(),
      LOG_LEVEL: 'warn',
      ...(receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } : {}),
    },
    ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
    ...(niceProjections ? { nice: { 'state-store': 10, telemetry: 10 } } : {}),
  });
  try {
    await stack.startWorker({ actions: [ACTION] });
    for (const rule of rules()) {
      const res = await stack.http('rule-engine', 'POST', '/v1/rules', rule);
      if (res.status !== 201) throw new Error(`rule: ${res.status} ${JSON.stringify(res.body)}`);
    }
    for (const def of [task1, decide1]) {
      const res = await stack.http('orchestrator', 'POST', '/v1/workflows', def);
      if (res.status !== 201) throw new Error(`workflow: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const nc = await stack.connection();
    const js = await stack.js();
    const waiters = new Map<string, (status: string) => void>();
    const sub = nc.subscribe('baton.events.execution.*.*');
    void (async () => {
      for await (const m of sub) {
        const body = m.json<{ executionId: string; status: string }>();
        waiters.get(body.executionId)?.(body.status);
      }
    })();
    // Where the time goes: when each hop's message is seen on the wire (core subscriptions see the
    // JetStream publishes), per execution: the decision request, its result, the task, the task's result.
    // Measured in a pass of its own: the copies the taps receive cost CPU on the machine being measured.
    const seen = new Map<string, Partial<Record<'request' | 'decided' | 'task' | 'done', number>>>();
    const mark = (executionId: string | undefined, what: 'request' | 'decided' | 'task' | 'done') => {
      if (!executionId) return;
      const marks = seen.get(executionId);
      if (marks && marks[what] === undefined) marks[what] = performance.now();
    };
    const tap = () => [
      nc.subscribe('baton.decisions.>', {
        callback: (_e, m) => mark(m.headers?.get('Baton-Execution-Id'), 'request'),
      }),
      nc.subscribe('baton.tasks.>', {
        callback: (_e, m) => mark(m.headers?.get('Baton-Execution-Id'), 'task'),
      }),
      nc.subscribe('baton.orch.result.*', {
        callback: (_e, m) => {
          const id = m.subject.split('.').pop();
          const marks = id ? seen.get(id) : undefined;
          if (marks)
            mark(id, marks.request !== undefined && marks.decided === undefined ? 'decided' : 'done');
        },
      }),
    ];
    const hops: Record<string, number[]> = {
      'start -> decision request (orchestrator)': [],
      'request -> result (rule-engine)': [],
      'result -> task (orchestrator)': [],
      'start -> task (orchestrator)': [],
      'task -> result (worker)': [],
    };
    // Per execution, from the decision request to the next task (both on the wire): the decision's own
    // span, whose p99 is that of one distribution (the added p99 is a difference of two).
    const spans: number[] = [];
    let n = 0;
    const once = (def: WorkflowDefinition, record = false) =>
      new Promise<number>((resolve, reject) => {
        const executionId = `${def.id}-${n++}`;
        const started = performance.now();
        seen.set(executionId, {});
        const note = () => {
          const m = seen.get(executionId);
          seen.delete(executionId);
          if (!record || !m) return;
          if (def === decide1 && m.request && m.decided && m.task) {
            hops['start -> decision request (orchestrator)']!.push(m.request - started);
            hops['request -> result (rule-engine)']!.push(m.decided - m.request);
            hops['result -> task (orchestrator)']!.push(m.task - m.decided);
            spans.push(m.task - m.request);
          } else if (def === task1 && m.task) {
            hops['start -> task (orchestrator)']!.push(m.task - started);
            if (m.done) hops['task -> result (worker)']!.push(m.done - m.task);
          }
        };
        waiters.set(executionId, (status) => {
          waiters.delete(executionId);
          note();
          if (status !== 'COMPLETED') reject(new Error(`${executionId} ${status}`));
          else resolve(performance.now() - started);
        });
        publishStart(js, def.id, executionId, { total: 100 + (n % 2000) }, 'bench').catch(reject);
      });
    log(`warming up: ${warmUp} executions, ${WARM_UP_IN_FLIGHT} in flight...`);
    let launched = 0;
    await Promise.all(
      Array.from({ length: WARM_UP_IN_FLIGHT }, async () => {
        while (launched < warmUp) {
          launched++;
          await once(launched % 2 === 0 ? task1 : decide1);
        }
      }),
    );
    // The projections catch up with the warm-up's history before anything is measured.
    await settled(nc);
    receiver?.clear();
    const projections = ['state-store', 'telemetry'] as const;
    if (pauseProjections) for (const n of projections) stack.service(n).pause();
    for (let i = 0; i < 20; i++) {
      await once(task1);
      await once(decide1);
    }
    const plain: number[] = [];
    const decided: number[] = [];
    const trafficBefore = await trafficSample(stack.nats.monitorPort);
    const cpuBefore = cpuSample(stack);
    for (let i = 0; i < samples; i++) {
      plain.push(await once(task1));
      decided.push(await once(decide1));
    }
    const cpuMsPerPair = Object.fromEntries(
      Object.entries(cpuDelta(cpuBefore, cpuSample(stack))).map(([name, seconds]) => [
        name,
        Number(((seconds * 1000) / samples).toFixed(3)),
      ]),
    );
    const messagesPerPair = Object.fromEntries(
      Object.entries(trafficDelta(trafficBefore, await trafficSample(stack.nats.monitorPort), samples))
        .filter(([, t]) => t.in + t.out > 0)
        .map(([name, t]) => [name, { in: Number(t.in.toFixed(2)), out: Number(t.out.toFixed(2)) }]),
    );
    const taps = tap();
    await nc.flush();
    for (let i = 0; i < samples; i++) {
      await once(task1, true);
      await once(decide1, true);
    }
    sub.unsubscribe();
    for (const t of taps) t.unsubscribe();
    if (pauseProjections) {
      for (const n of projections) stack.service(n).resume();
      await settled(nc);
    }
    log('measuring the decision floor (plain JetStream, two processes) on the same nats-server...');
    const floor = await measureDecisionFloor(stack.nats.url, { samples });
    const breakdown = Object.fromEntries(
      Object.entries(hops).map(([hop, values]) => [hop, percentiles(values).p50Ms]),
    );
    const span = percentiles(spans);
    const a = percentiles(plain);
    const b = percentiles(decided);
    const result = {
      task1: a,
      decide1: b,
      addedByDecision: { p50Ms: b.p50Ms - a.p50Ms, p99Ms: b.p99Ms - a.p99Ms },
      decisionSpan: { p50Ms: span.p50Ms, p95Ms: span.p95Ms, p99Ms: span.p99Ms },
      decisionFloor: { p50Ms: floor.p50Ms, p95Ms: floor.p95Ms, p99Ms: floor.p99Ms },
      samples,
      warmUp,
      niceProjections,
      pauseProjections,
      tracing: receiver
        ? { spansReceived: receiver.spans.length, rejectedExports: receiver.rejected }
        : false,
      rulesInCategory: 20,
      hopP50Ms: breakdown,
      cpuMsPerPair,
      messagesPerPair,
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      log('');
      log(
        `| workflow | p50 ms | p95 ms | p99 ms |   (${samples} executions each, one at a time, interleaved, after ${warmUp} to warm up${niceProjections ? '; projections at nice 10' : ''}${receiver ? '; tracing exporting' : ''}${pauseProjections ? '; projections paused' : ''})`,
      );
      log('|----------|--------|--------|--------|');
      log(
        `| task1    | ${a.p50Ms.toFixed(2).padStart(6)} | ${a.p95Ms.toFixed(2).padStart(6)} | ${a.p99Ms.toFixed(2).padStart(6)} |`,
      );
      log(
        `| decide1  | ${b.p50Ms.toFixed(2).padStart(6)} | ${b.p95Ms.toFixed(2).padStart(6)} | ${b.p99Ms.toFixed(2).padStart(6)} |`,
      );
      log('');
      log('p50 of each hop, as seen on the wire by the bench (a second pass, with taps):');
      for (const [hop, ms] of Object.entries(breakdown)) log(`  ${hop.padEnd(44)} ${ms.toFixed(2)} ms`);
      log(
        `  decision request -> next task, per execution:  p50 ${span.p50Ms.toFixed(2)} ms, p95 ${span.p95Ms.toFixed(2)} ms, p99 ${span.p99Ms.toFixed(2)} ms`,
      );
      log('');
      log('CPU per task1 + decide1 pair while the samples were taken (first pass), by process:');
      log(
        `  ${Object.entries(cpuMsPerPair)
          .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
          .join(', ')} ms`,
      );
      log('Messages through nats-server per pair (first pass), by connection: published in / delivered out:');
      for (const [name, t] of Object.entries(messagesPerPair)) {
        log(`  ${name.padEnd(28)} ${t.in.toFixed(2).padStart(6)} in ${t.out.toFixed(2).padStart(6)} out`);
      }
      log('');
      log(
        `decision floor (request and answer across two processes, one KV compare-and-set, the next publish): p50 ${floor.p50Ms.toFixed(2)} ms, p99 ${floor.p99Ms.toFixed(2)} ms`,
      );
      log(
        `a decision over ${result.rulesInCategory} rules adds p50 ${result.addedByDecision.p50Ms.toFixed(2)} ms, p99 ${result.addedByDecision.p99Ms.toFixed(2)} ms`,
      );
    }
  } finally {
    await stack.stop();
    await receiver?.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`decision bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
