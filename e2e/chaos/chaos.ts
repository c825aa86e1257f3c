/**
 * The chaos harness (docs/adr/0018-chaos-suite.md): runs executions of a saga workflow with retries, a timer
 * and compensations while it crashes, pauses and restarts every part of Baton, then checks that nothing was
 * lost, stuck or applied twice. Used by e2e/chaos/chaos.chaos-spec.ts (full run, `npm run test:chaos`) and
 * e2e/chaos-short.e2e-spec.ts (the short form CI runs).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import type { WorkflowDefinition } from '@baton/contracts';
import { startNatsServer, startPostgresCluster, waitFor } from '@baton/testing';
import type { NatsServerHandle, PostgresClusterHandle } from '@baton/testing';

import { ChildHandle, ROOT, SERVICE_NAMES, Stack } from '../support/stack';
import type { ServiceName } from '../support/stack';
import { metricValue } from '../support/metrics';
import { listExecutions } from '../support/workflows';
import type { ExecutionSummary } from '../support/workflows';

/** Size and pace of one chaos run. */
export interface ChaosOptions {
  /** Executions of the saga workflow (spread over the fault phases). */
  executions: number;
  /** How long PostgreSQL stays down in the outage phase. */
  outageMs: number;
  /** Bound on the wait for every execution to end (a safety net, not an assertion on speed). */
  settleTimeoutMs: number;
  /** Only the phases whose names contain one of these (for working on one fault); default all. */
  phases?: string[];
  /** Progress lines on stderr. */
  log?: (line: string) => void;
}

/** What a run found; the suite asserts on it. */
export interface ChaosReport {
  started: number;
  completed: number;
  compensated: number;
  failed: number;
  /** Known to Baton but not terminal when the run gave up waiting. */
  stuck: number;
  /** Started (202) but never seen in the state-store. */
  lost: number;
  /** Logical effects (execution, step, forward or compensation) applied more than once. */
  appliedTwice: number;
  /** Effects that should have been applied (a completed or compensated step) and were not. */
  missingEffects: number;
  /** Handler runs of an already delivered task (delivery count > 1) or of an already applied key. */
  redeliveries: number;
  /** Faults the harness injected (kills, restarts, outages, pauses, deleted messages, crash points). */
  faultsInjected: number;
  faults: Record<string, number>;
  /** Executions whose final status differs from the one their input asks for. */
  unexpectedStatus: string[];
  /** Executions whose history has gaps, disorder, or does not start/end as it should. */
  badHistory: string[];
  /** Largest attempt number of any step. */
  maxAttempt: number;
  /** Stale results ignored (fencing of late completions, ADR 0006). */
  staleResults: number;
  /** Attempts that passed their step timeout. */
  timedOut: number;
  /** Dead letters left (none are expected; each one is listed). */
  deadLetters: unknown[];
  /** What went wrong while PostgreSQL was down: acks of messages that needed it, dead letters. */
  outageViolations: string[];
  /** Messages that waited for PostgreSQL during the outage (shows the outage check was not vacuous). */
  outageBacklog: number;
  /** The execution whose task message was deleted from BATON_TASKS ended COMPLETED (by re-drive). */
  lostTaskRecovered: boolean;
  durationMs: number;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'COMPENSATED', 'TERMINATED']);
const TERMINAL_EVENTS: Record<string, string> = {
  COMPLETED: 'ExecutionCompleted',
  COMPENSATED: 'ExecutionCompensated',
  FAILED: 'ExecutionFailed',
  TERMINATED: 'ExecutionTerminated',
};
/**
 * Consumers whose every message needs a PostgreSQL commit (a history batch, a timer): none may ack while it
 * is down. The telemetry's `telemetry-history` acks batches with nothing to count without a database, so for
 * it the check is on its outcomes instead: nothing counted (or found a duplicate, which reads the database).
 */
const DATABASE_CONSUMERS = [
  { stream: 'BATON_HISTORY', durable: 'state-store-history' },
  { stream: 'BATON_SCHED', durable: 'scheduler-requests' },
] as const;
const TELEMETRY_COMMITTED_OUTCOMES = ['counted', 'duplicate'] as const;

const PREFIX = 'chaos';
const WORKFLOW = 'chaos-saga';
const LOST_WORKFLOW = 'chaos-lost';
const ACTIONS = ['reserve', 'release', 'charge', 'refund', 'ship'].map((a) => `${PREFIX}.${a}`);
const LOST_ACTION = `${PREFIX}.lost`;
/** Ack wait of the workers' consumers; the SIGSTOP lasts longer. */
const ACK_WAIT_MS = 10_000;
/** Step timeout of `charge`: shorter than the ack wait, so a paused worker's attempt is retried elsewhere. */
const CHARGE_TIMEOUT_S = 5;
const PAUSE_MS = ACK_WAIT_MS + 4_000;

/** What an execution's input asks for, derived from its index. */
export function expectedOf(i: number): { input: Record<string, boolean>; status: string } {
  const fail = i % 10 === 3;
  const refundFails = i % 40 === 3;
  const input = { flaky: i % 3 === 0, fail, refundFails };
  return { input, status: refundFails ? 'FAILED' : fail ? 'COMPENSATED' : 'COMPLETED' };
}

export function sagaWorkflow(): WorkflowDefinition {
  const retryPolicy = {
    maxAttempts: 12,
    initialIntervalMs: 200,
    backoffCoefficient: 2,
    maxIntervalMs: 2_000,
  };
  return {
    id: WORKFLOW,
    name: 'Chaos saga: reserve, charge, a timer, ship; compensations on failure',
    version: 1,
    steps: [
      {
        id: 'reserve',
        type: 'task',
        action: `${PREFIX}.reserve`,
        parameters: { flaky: '{% $input.flaky %}' },
        retryPolicy,
        compensation: { action: `${PREFIX}.release` },
      },
      {
        id: 'charge',
        type: 'task',
        action: `${PREFIX}.charge`,
        dependencies: ['reserve'],
        timeoutSeconds: CHARGE_TIMEOUT_S,
        retryPolicy,
        compensation: { action: `${PREFIX}.refund`, parameters: { refundFails: '{% $input.refundFails %}' } },
      },
      { id: 'cool-off', type: 'wait', parameters: { seconds: 1 }, dependencies: ['charge'] },
      {
        id: 'ship',
        type: 'task',
        action: `${PREFIX}.ship`,
        parameters: { fail: '{% $input.fail %}' },
        dependencies: ['cool-off'],
        retryPolicy,
      },
    ],
  } as WorkflowDefinition;
}

function lostWorkflow(): WorkflowDefinition {
  return {
    id: LOST_WORKFLOW,
    version: 1,
    steps: [{ id: 'only', type: 'task', action: LOST_ACTION }],
  } as WorkflowDefinition;
}

interface Run {
  key: string;
  action: string;
  executionId: string;
  stepId: string;
  compensation: boolean;
  attempt: number;
  deliveryCount: number;
  applied: boolean;
}

interface HistoryItem {
  seq: number;
  type: string;
  attempt?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One chaos run: own nats-server, own PostgreSQL cluster, the five services and three workers. */
export class ChaosRun {
  private nats!: NatsServerHandle;
  private pg!: PostgresClusterHandle;
  private stack!: Stack;
  private nc!: NatsConnection;
  private jsm!: JetStreamManager;
  private readonly tmp = mkdtempSync(path.join(tmpdir(), 'baton-chaos-'));
  private readonly ledgerDir = path.join(this.tmp, 'ledger');
  private readonly runsFile = path.join(this.tmp, 'runs.jsonl');
  private readonly workers = new Map<string, ChildHandle>();
  private readonly workerEnv = new Map<string, NodeJS.ProcessEnv>();
  private readonly faults: Record<string, number> = {};
  private readonly started = new Map<string, string>();
  private readonly starting = new Set<Promise<void>>();
  private readonly outageViolations: string[] = [];
  private outageBacklog = 0;
  private next = 0;
  private extraPerCrashLoop = 0;
  private pausedTasks: string[] = [];
  private lostExecutionId = `${LOST_WORKFLOW}-1`;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ChaosOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`[chaos] ${line}\n`));
    mkdirSync(this.ledgerDir);
  }

  async setUp(): Promise<void> {
    this.nats = await startNatsServer();
    this.pg = await startPostgresCluster();
    this.stack = await Stack.start({
      nats: this.nats,
      adminUrl: this.pg.adminUrl,
      env: {
        // Re-drive idle executions soon (ADR 0007); a lost task's copy is stored once the 2-minute
        // duplicate window of its first publication has passed.
        BATON_REDRIVE_INTERVAL_MS: '5000',
        BATON_REDRIVE_AFTER_MS: '20000',
      },
    });
    this.nc = (await connect({
      servers: this.nats.url,
      name: 'chaos-harness',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    })) as NatsConnection;
    this.jsm = await jetstreamManager(this.nc);
    for (const def of [sagaWorkflow(), lostWorkflow()]) {
      const res = await this.stack.http('orchestrator', 'POST', '/v1/workflows', def);
      if (res.status !== 201)
        throw new Error(`register ${def.id}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await this.startWorker('worker-a', ACTIONS);
    // `charge` runs on worker-a only: when it is paused, nobody else answers the attempt it holds (a
    // redelivery answered elsewhere would take the result's message id, and the late completion would be
    // dropped by the broker as a duplicate instead of reaching the orchestrator to be fenced off).
    await this.startWorker(
      'worker-b',
      ACTIONS.filter((a) => a !== `${PREFIX}.charge`),
    );
  }

  async tearDown(): Promise<void> {
    await Promise.allSettled([...this.starting]);
    await this.nc?.close().catch(() => undefined);
    for (const w of this.workers.values()) {
      w.proc?.kill('SIGCONT');
      await w.stop(5_000);
    }
    await this.stack?.stop().catch(() => undefined);
    await this.nats?.cleanup();
    await this.pg?.cleanup();
    rmSync(this.tmp, { recursive: true, force: true });
  }

  /** The scenario, then the checks. */
  async run(): Promise<ChaosReport> {
    const begin = Date.now();
    const all: [string, () => Promise<void>][] = [
      ['task message deleted from BATON_TASKS', () => this.deleteTaskMessage()],
      ...SERVICE_NAMES.map((name): [string, () => Promise<void>] => [
        `SIGKILL + restart ${name}`,
        () => this.killService(name),
      ]),
      ['SIGKILL + restart worker', () => this.killWorker()],
      ['restart nats-server', () => this.restartNats()],
      ['restart PostgreSQL', () => this.restartPostgres()],
      ['PostgreSQL down', () => this.postgresOutage()],
      ['worker crash between effect and ack', () => this.workerFaults()],
      ['orchestrator crash between state write and publish', () => this.orchestratorFaults()],
      ['worker paused past its ack wait', () => this.pauseWorker()],
    ];
    const only = this.options.phases;
    const phases = all.filter(([name]) => only === undefined || only.some((p) => name.includes(p)));
    // Each phase starts a batch; the two crash-point phases may start up to one more batch while they run.
    const perPhase = Math.max(1, Math.floor(this.options.executions / (phases.length + 2)));
    this.extraPerCrashLoop = Math.max(perPhase, 12);
    for (const [index, [name, phase]] of phases.entries()) {
      const count =
        index === phases.length - 1 ? Math.max(perPhase, this.options.executions - this.next) : perPhase;
      const runsBefore = this.runs().length;
      this.startBatch(count);
      // Let the batch get going, so that the fault lands on work in flight at every stage.
      await waitFor(() => this.runs().length >= runsBefore + Math.min(count, 5), {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: 'the batch to be in flight',
      }).catch(() => this.log(`${name}: the batch was slow to start; injecting anyway`));
      this.log(`phase ${index + 1}/${phases.length}: ${name} (${this.next} started)`);
      await phase();
      await this.allReady();
    }
    await Promise.all([...this.starting]);
    this.log(`scenario done: ${this.started.size} started; waiting for every execution to end`);
    return this.check(begin);
  }

  // ---- executions

  private startBatch(count: number): void {
    for (let k = 0; k < count; k++) {
      const i = this.next++;
      const executionId = `${WORKFLOW}-${i}`;
      const { input, status } = expectedOf(i);
      this.started.set(executionId, status);
      this.track(this.startExecution(WORKFLOW, executionId, input));
    }
  }

  private track(work: Promise<void>): void {
    this.starting.add(work);
    void work.finally(() => this.starting.delete(work));
  }

  /** POST the start until accepted: the orchestrator may be down; the same execution id is idempotent. */
  private async startExecution(workflowId: string, executionId: string, input: unknown): Promise<void> {
    await waitFor(
      async () => {
        const res = await fetch(
          `${this.stack.service('orchestrator').url}/v1/workflows/${workflowId}/executions`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ executionId, input }),
            signal: AbortSignal.timeout(10_000),
          },
        );
        if (res.status === 202) return true;
        if (res.status >= 400 && res.status < 500) throw new Error(`start ${executionId}: ${res.status}`);
        return undefined;
      },
      { timeoutMs: 300_000, intervalMs: 250, what: `start of ${executionId}` },
    );
  }

  // ---- workers

  private async startWorker(name: string, actions: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    let worker = this.workers.get(name);
    this.workerEnv.set(name, env);
    if (!worker) {
      worker = new ChildHandle(name, path.join(ROOT, 'dist', 'e2e', 'support', 'chaos-worker.js'), () => ({
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        NODE_ENV: 'production',
        NATS_URL: this.nats.url,
        CHAOS_ACTIONS: actions.join(','),
        CHAOS_LEDGER_DIR: this.ledgerDir,
        CHAOS_RUNS_FILE: this.runsFile,
        CHAOS_DELAY_MS: '30',
        CHAOS_SLOW: `${PREFIX}.charge:200`,
        CHAOS_CONCURRENCY: '16',
        CHAOS_ACK_WAIT_MS: String(ACK_WAIT_MS),
        CHAOS_TRACE_ACTION: `${PREFIX}.charge`,
        ...this.workerEnv.get(name),
      }));
      this.workers.set(name, worker);
    }
    const handle = worker;
    // Count from this start on: the kept output is bounded, so earlier ready lines may drop out of it.
    const mark = handle.linesSeen;
    handle.start();
    await waitFor(
      () => {
        if (!handle.running) throw new Error(`${name} exited at start:\n${handle.tail()}`);
        return handle.linesSince(mark).some((l) => l.includes('worker ready'));
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${name} ready` },
    );
  }

  private worker(name: string): ChildHandle {
    const w = this.workers.get(name);
    if (!w) throw new Error(`no worker ${name}`);
    return w;
  }

  // ---- phases

  private count(fault: string, n = 1): void {
    this.faults[fault] = (this.faults[fault] ?? 0) + n;
  }

  /**
   * A broker that lost a message: one execution of a workflow whose action has no consumer yet; its task is
   * deleted from BATON_TASKS before any worker sees it, then a worker for it starts. Only the orchestrator's
   * re-drive can finish that execution.
   */
  private async deleteTaskMessage(): Promise<void> {
    const subject = `baton.tasks.${LOST_ACTION}`;
    this.started.set(this.lostExecutionId, 'COMPLETED');
    await this.startExecution(LOST_WORKFLOW, this.lostExecutionId, {});
    const seq = await waitFor(
      async () => {
        const msg = await this.jsm.streams.getMessage('BATON_TASKS', { last_by_subj: subject });
        return msg?.seq;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `the task of ${this.lostExecutionId}` },
    );
    if (!(await this.jsm.streams.deleteMessage('BATON_TASKS', seq))) {
      throw new Error(`could not delete message ${seq} of BATON_TASKS`);
    }
    this.count('task message deleted');
    await this.startWorker('worker-lost', [LOST_ACTION]);
  }

  private async killService(name: ServiceName): Promise<void> {
    await this.stack.killService(name);
    this.count(`SIGKILL ${name}`);
    await this.stack.startService(name);
  }

  private async killWorker(): Promise<void> {
    await this.worker('worker-a').signal('SIGKILL');
    this.count('SIGKILL worker');
    await this.startWorker('worker-a', ACTIONS);
  }

  private async restartNats(): Promise<void> {
    await this.nats.restart();
    this.count('restart nats-server');
  }

  private async restartPostgres(): Promise<void> {
    await this.pg.restart();
    this.count('restart PostgreSQL');
  }

  /**
   * PostgreSQL down for `outageMs`: the consumers that need it must not ack anything (their ack floor
   * stays), nothing may be dead-lettered; afterwards they catch up.
   */
  private async postgresOutage(): Promise<void> {
    await this.pg.stop();
    this.count('PostgreSQL outage');
    const outageStart = Date.now();
    // Commits that finished just before the stop may still be acked: let those settle first.
    await sleep(2_000);
    const baseline = await this.consumerFloors();
    const dlqBefore = await this.dlqCount();
    const analyticsBefore = await this.analyticsCommitted();
    while (Date.now() - outageStart < this.options.outageMs) {
      await sleep(1_000);
      const now = await this.consumerFloors().catch(() => undefined);
      if (!now) continue;
      for (const [key, floor] of now) {
        const before = baseline.get(key);
        if (before && floor.ackFloor > before.ackFloor) {
          this.outageViolations.push(
            `${key} acked up to ${floor.ackFloor} (was ${before.ackFloor}) with PostgreSQL down`,
          );
        }
        this.outageBacklog = Math.max(this.outageBacklog, floor.delivered - floor.ackFloor + floor.pending);
      }
      const analytics = await this.analyticsCommitted().catch(() => analyticsBefore);
      if (analytics > analyticsBefore) {
        this.outageViolations.push(
          `telemetry committed ${analytics - analyticsBefore} batch(es) with PostgreSQL down`,
        );
      }
      const dlq = await this.dlqCount().catch(() => dlqBefore);
      if (dlq > dlqBefore)
        this.outageViolations.push(`${dlq - dlqBefore} dead letter(s) with PostgreSQL down`);
    }
    await this.pg.start();
    const history = baseline.get('BATON_HISTORY/state-store-history');
    if (history) {
      await waitFor(
        async () =>
          ((await this.consumerFloors()).get('BATON_HISTORY/state-store-history')?.ackFloor ?? 0) >
          history.ackFloor,
        { timeoutMs: 120_000, intervalMs: 250, what: 'the state-store to catch up after the outage' },
      );
    }
  }

  private async consumerFloors(): Promise<
    Map<string, { ackFloor: number; delivered: number; pending: number }>
  > {
    const floors = new Map<string, { ackFloor: number; delivered: number; pending: number }>();
    for (const { stream, durable } of DATABASE_CONSUMERS) {
      const info = await this.jsm.consumers.info(stream, durable);
      floors.set(`${stream}/${durable}`, {
        ackFloor: info.ack_floor.stream_seq,
        delivered: info.delivered.stream_seq,
        pending: info.num_pending,
      });
    }
    return floors;
  }

  /** Batches the telemetry reported as committed (counted or found already counted). */
  private async analyticsCommitted(): Promise<number> {
    const res = await fetch(`${this.stack.service('telemetry').url}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    return TELEMETRY_COMMITTED_OUTCOMES.reduce(
      (sum, outcome) => sum + (metricValue(text, 'baton_analytics_batches_total', { outcome }) ?? 0),
      0,
    );
  }

  private async dlqCount(): Promise<number> {
    return (await this.jsm.streams.info('BATON_DLQ')).state.messages;
  }

  /** Restarts `worker-a` with the after-effect crash point until it fired a few times, then without. */
  private async workerFaults(): Promise<void> {
    const worker = this.worker('worker-a');
    await worker.stop();
    await this.startWorker('worker-a', ACTIONS, { BATON_WORKER_FAULTS: 'after-effect:0.3' }).catch(
      () => undefined,
    );
    await this.crashLoop(
      'worker crash after effect',
      worker,
      () => this.startWorker('worker-a', ACTIONS, { BATON_WORKER_FAULTS: 'after-effect:0.3' }),
      () => this.startWorker('worker-a', ACTIONS),
    );
  }

  /** Restarts the orchestrator with the after-state-write crash point until it fired a few times. */
  private async orchestratorFaults(): Promise<void> {
    await this.stack.service('orchestrator').stop();
    await this.stack
      .startService('orchestrator', { BATON_FAULTS: 'after-state-write:0.2' })
      .catch(() => undefined);
    await this.crashLoop(
      'orchestrator crash after state write',
      this.stack.service('orchestrator'),
      async () =>
        void (await this.stack.startService('orchestrator', { BATON_FAULTS: 'after-state-write:0.2' })),
      async () => void (await this.stack.startService('orchestrator')),
    );
  }

  /**
   * Lets `child` run with a crash point on until it crashed `wanted` times (restarting it with the point on
   * in between), keeping executions flowing through it; then restarts it with the point off.
   */
  private async crashLoop(
    fault: string,
    child: ChildHandle,
    restartFaulty: () => Promise<void>,
    restartClean: () => Promise<void>,
  ): Promise<void> {
    const wanted = 3;
    let crashes = 0;
    let extra = 0;
    let lastStart = 0;
    const deadline = Date.now() + 120_000;
    while (crashes < wanted && Date.now() < deadline) {
      if (!child.running) {
        if (!child.output.slice(-30).some((l) => l.includes('fault injected'))) {
          throw new Error(`${child.name} exited without a fault:\n${child.tail()}`);
        }
        crashes++;
        this.count(fault);
        // A crash during the start (the point is hit early) shows as a failed start: the loop counts it.
        if (crashes < wanted) await restartFaulty().catch(() => undefined);
        continue;
      }
      // Keep work flowing through the faulty process, a few more executions than the batch.
      if (Date.now() - lastStart > 500 && extra < this.extraPerCrashLoop) {
        lastStart = Date.now();
        extra++;
        this.startBatch(1);
      }
      await sleep(100);
    }
    if (child.running) await child.stop();
    await restartClean();
    this.log(`${fault}: ${crashes} crash(es), ${extra} extra executions`);
  }

  /** SIGSTOP `worker-a` past its ack wait: its attempts time out and run elsewhere; then SIGCONT. */
  private async pauseWorker(): Promise<void> {
    const worker = this.worker('worker-a');
    // Pause it with a `charge` attempt in flight (a step with a timeout), so that its completion is late.
    let extra = 0;
    let lastStart = Date.now();
    await waitFor(
      () => {
        if (inFlight(worker.output).size > 0) return true;
        // Too few executions left in flight: feed a few more.
        if (Date.now() - lastStart > 1_000 && extra < 5) {
          lastStart = Date.now();
          extra++;
          this.startBatch(1);
        }
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 10, what: 'a charge attempt in flight on worker-a' },
    ).catch(() => this.log('no charge attempt seen in flight on worker-a; pausing anyway'));
    this.pausedTasks = [...inFlight(worker.output)];
    worker.proc?.kill('SIGSTOP');
    this.count('worker SIGSTOP past ack wait');
    this.log(`worker-a paused with ${this.pausedTasks.join(', ') || 'nothing seen'} in flight`);
    await sleep(PAUSE_MS);
    worker.proc?.kill('SIGCONT');
  }

  private async allReady(): Promise<void> {
    await waitFor(
      async () => {
        for (const name of SERVICE_NAMES) {
          const res = await fetch(`${this.stack.service(name).url}/health/ready`, {
            signal: AbortSignal.timeout(5_000),
          });
          if (res.status !== 200) return false;
        }
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'every service ready' },
    );
  }

  // ---- checks

  private runs(): Run[] {
    if (!existsSync(this.runsFile)) return [];
    return readFileSync(this.runsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Run);
  }

  /** The applied effects: one ledger entry per idempotency key. */
  private ledger(): Run[] {
    return readdirSync(this.ledgerDir).map((file) => {
      const text = readFileSync(path.join(this.ledgerDir, file), 'utf8');
      if (text) return JSON.parse(text) as Run;
      // Killed between creating the entry and writing it: the effect is applied, its details unknown.
      const key = decodeURIComponent(file);
      const [executionId = '', stepId = '', kind] = key.split(':');
      return {
        key,
        action: '',
        executionId,
        stepId,
        compensation: kind === 'compensate',
        attempt: 0,
        deliveryCount: 0,
        applied: true,
      };
    });
  }

  private async allExecutions(): Promise<Map<string, ExecutionSummary>> {
    const all = new Map<string, ExecutionSummary>();
    for (const workflowId of [WORKFLOW, LOST_WORKFLOW]) {
      for (const e of await listExecutions(this.stack, workflowId)) all.set(e.executionId, e);
    }
    return all;
  }

  private async history(executionId: string): Promise<HistoryItem[]> {
    const items: HistoryItem[] = [];
    let after = 0;
    for (;;) {
      const res = await this.stack.http<{ items: HistoryItem[]; nextAfterSeq: number | null }>(
        'state-store',
        'GET',
        `/v1/executions/${executionId}/history?limit=1000${after ? `&afterSeq=${after}` : ''}`,
      );
      if (res.status !== 200) throw new Error(`history of ${executionId}: ${res.status}`);
      items.push(...res.body.items);
      if (res.body.nextAfterSeq === null || res.body.items.length === 0) return items;
      after = res.body.nextAfterSeq;
    }
  }

  private async check(begin: number): Promise<ChaosReport> {
    let executions = new Map<string, ExecutionSummary>();
    await waitFor(
      async () => {
        executions = await this.allExecutions();
        return [...this.started.keys()].every((id) => TERMINAL.has(executions.get(id)?.status ?? ''));
      },
      { timeoutMs: this.options.settleTimeoutMs, intervalMs: 1_000, what: 'every execution terminal' },
    ).catch((err: Error) => this.log(err.message));

    const unexpectedStatus: string[] = [];
    const badHistory: string[] = [];
    let stuck = 0;
    let lost = 0;
    let maxAttempt = 0;
    let staleResults = 0;
    let timedOut = 0;
    const byStatus: Record<string, number> = {};
    const ledger = this.ledger();
    const applied = new Map<string, number>();
    for (const entry of ledger) {
      const logical = `${entry.executionId}/${entry.stepId}/${entry.compensation ? 'compensate' : 'forward'}`;
      applied.set(logical, (applied.get(logical) ?? 0) + 1);
    }
    let missingEffects = 0;
    // One bound for all histories to settle (they are written by the same projection as the statuses).
    const historyDeadline = Date.now() + 120_000;
    for (const [id, expected] of this.started) {
      const e = executions.get(id);
      if (!e) {
        lost++;
        continue;
      }
      byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
      if (!TERMINAL.has(e.status)) {
        stuck++;
        continue;
      }
      if (e.status !== expected) unexpectedStatus.push(`${id}: ${e.status}, expected ${expected}`);
      const detail = await this.stack.http<ExecutionSummary>('state-store', 'GET', `/v1/executions/${id}`);
      for (const [stepId, step] of Object.entries(detail.body.steps ?? {})) {
        maxAttempt = Math.max(maxAttempt, step.attempt ?? 0);
        if (stepId === 'cool-off') continue;
        const forward = applied.get(`${id}/${stepId}/forward`) ?? 0;
        if ((step.status === 'COMPLETED' || step.status === 'COMPENSATED') && forward === 0) missingEffects++;
        if (step.status === 'COMPENSATED' && (applied.get(`${id}/${stepId}/compensate`) ?? 0) === 0) {
          missingEffects++;
        }
      }
      const items = await waitFor(
        async () => {
          const h = await this.history(id);
          return endsAsTerminal(h, TERMINAL_EVENTS[e.status]) ? h : undefined;
        },
        {
          timeoutMs: Math.max(0, historyDeadline - Date.now()),
          intervalMs: 500,
          what: `history of ${id} to end`,
        },
      ).catch(() => this.history(id));
      staleResults += items.filter((h) => h.type === 'StaleResultIgnored').length;
      timedOut += items.filter((h) => h.type === 'StepTimedOut').length;
      if (this.pausedTasks.some((t) => t.startsWith(`${id}.`))) {
        this.log(
          `paused ${id}: ${items.map((h) => `${h.type}${h.attempt ? `#${h.attempt}` : ''}`).join(' ')}`,
        );
      }
      const contiguous = items.every((h, k) => h.seq === k + 1);
      if (
        !contiguous ||
        items[0]?.type !== 'ExecutionStarted' ||
        !endsAsTerminal(items, TERMINAL_EVENTS[e.status])
      ) {
        badHistory.push(
          `${id}: seq ${items.map((h) => h.seq).join(',')} types ${items[0]?.type}..${items.at(-1)?.type}`,
        );
      }
    }
    const runs = this.runs();
    const appliedTwice = [...applied.values()].filter((n) => n > 1).length;
    const redeliveries = runs.filter((r) => r.deliveryCount > 1 || !r.applied).length;
    const dead = await this.stack.http<{ items: unknown[] }>(
      'state-store',
      'GET',
      '/v1/dead-letters?limit=100',
    );
    const deadLetters = dead.status === 200 ? dead.body.items : [`dead-letter list failed: ${dead.status}`];
    const faultsInjected = Object.values(this.faults).reduce((a, b) => a + b, 0);
    const report: ChaosReport = {
      started: this.started.size,
      completed: byStatus['COMPLETED'] ?? 0,
      compensated: byStatus['COMPENSATED'] ?? 0,
      failed: byStatus['FAILED'] ?? 0,
      stuck,
      lost,
      appliedTwice,
      missingEffects,
      redeliveries,
      faultsInjected,
      faults: { ...this.faults },
      unexpectedStatus,
      badHistory,
      maxAttempt,
      staleResults,
      timedOut,
      deadLetters,
      outageViolations: [...this.outageViolations],
      outageBacklog: this.outageBacklog,
      lostTaskRecovered: executions.get(this.lostExecutionId)?.status === 'COMPLETED',
      durationMs: Date.now() - begin,
    };
    this.log(formatReport(report));
    const out = path.join(ROOT, 'tmp');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'chaos-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  }
}

/**
 * The history holds its terminal event once, followed by nothing but late results fenced off after the end
 * (`StaleResultIgnored`, ADR 0006: a result that arrives after the execution ended is still recorded).
 */
function endsAsTerminal(items: readonly HistoryItem[], terminal: string | undefined): boolean {
  const at = items.findIndex((h) => h.type === terminal);
  if (at < 0 || items.findIndex((h, k) => k > at && h.type === terminal) >= 0) return false;
  return items.slice(at + 1).every((h) => h.type === 'StaleResultIgnored');
}

/** Task ids whose `run-start` has no `run-end` in a worker's output. */
function inFlight(output: readonly string[]): Set<string> {
  const open = new Set<string>();
  for (const line of output) {
    // A restart forgets what the previous process had in flight.
    if (line.startsWith('worker ready')) open.clear();
    else if (line.startsWith('run-start ')) open.add(line.slice('run-start '.length));
    else if (line.startsWith('run-end ')) open.delete(line.slice('run-end '.length));
  }
  return open;
}

/** The summary line the issue asks for, plus the details worth reading. */
export function formatReport(r: ChaosReport): string {
  const counts = [
    `started ${r.started}`,
    `completed ${r.completed}`,
    `compensated ${r.compensated}`,
    `failed ${r.failed}`,
    `stuck ${r.stuck}`,
    `lost ${r.lost}`,
    `applied twice ${r.appliedTwice}`,
    `redeliveries ${r.redeliveries}`,
    `faults injected ${r.faultsInjected}`,
  ].join(' | ');
  const faults = Object.entries(r.faults)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `CHAOS: ${counts}`,
    `  faults: ${faults}`,
    `  max attempt ${r.maxAttempt}, timed out ${r.timedOut}, stale results ignored ${r.staleResults}, missing effects ${r.missingEffects}, ` +
      `dead letters ${r.deadLetters.length}, outage backlog ${r.outageBacklog}, outage violations ${r.outageViolations.length}, ` +
      `lost task re-driven ${r.lostTaskRecovered}, unexpected status ${r.unexpectedStatus.length}, bad history ${r.badHistory.length}, ` +
      `${Math.round(r.durationMs / 1000)} s`,
  ].join('\n');
}
