import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

import { ExecutionStatus, KvBuckets, StepStatus } from '@baton/contracts';
import type { HistoryBatch, TaskMessage, TaskResult, WorkflowDefinition } from '@baton/contracts';
import { startNatsServer } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { BATON_STREAMS, JetStreamPublisher, connectNats, ensureStreams } from '@baton/transport-jetstream';
import { ExpressionEvaluator } from '@baton/workflow';

import { ExecutionEngine } from '../src/executions/execution-engine';
import { ExecutionRunner } from '../src/executions/execution-runner';
import type { FaultPoints } from '../src/executions/execution-runner';
import { ExecutionStore } from '../src/executions/execution-store';
import { Redriver } from '../src/executions/redrive';

const fan: WorkflowDefinition = {
  id: 'fan',
  version: 1,
  steps: [
    { id: 'root', type: 'task', action: 'it.root' },
    ...Array.from({ length: 8 }, (_, i) => ({
      id: `b${i}`,
      type: 'task' as const,
      action: 'it.branch',
      dependencies: ['root'],
    })),
    {
      id: 'join',
      type: 'task',
      action: 'it.join',
      dependencies: Array.from({ length: 8 }, (_, i) => `b${i}`),
    },
  ],
};

const definitions = { get: async () => ({ definition: fan }) };

describe('ExecutionRunner on JetStream', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let kv: KV;
  let evaluator: ExpressionEvaluator;
  let publisher: JetStreamPublisher;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectNats({ servers: server.url, name: 'runner-it' });
    await ensureStreams(nc, Object.values(BATON_STREAMS));
    kv = await new Kvm(nc).create(KvBuckets.EXECUTIONS, { history: 1 });
    evaluator = new ExpressionEvaluator({ poolSize: 1 });
    publisher = new JetStreamPublisher(nc);
  });

  afterAll(async () => {
    await evaluator?.close();
    await nc?.close();
    await server?.cleanup();
  });

  const engine = () =>
    new ExecutionEngine({ evaluator, maxOutputBytes: 64 * 1024, maxStateBytes: 512 * 1024 });
  const runner = (faults?: FaultPoints) =>
    new ExecutionRunner(new ExecutionStore(kv), engine(), definitions, publisher, faults);

  /** Every message stored on `subject`, read by sequence (no consumer: work-queue streams allow one). */
  async function messages<T>(stream: string, subject: string): Promise<T[]> {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    const out: T[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (msg && msg.subject === subject) out.push(msg.json<T>());
    }
    return out;
  }

  const resultOf = (task: TaskMessage, output: unknown): TaskResult => ({
    protocol: 1,
    taskId: task.taskId,
    executionId: task.executionId,
    stepId: task.stepId,
    attempt: task.attempt,
    status: 'completed',
    output,
  });

  it('keeps one execution consistent when two instances apply its results at the same time', async () => {
    const a = runner();
    const b = runner();
    const { record } = await a.start(fan, { executionId: 'race-1', input: {}, cause: 'test' });
    const [rootTask] = record.outbox
      .filter((e) => e.subject === 'baton.tasks.it.root')
      .map((e) => e.body as TaskMessage);
    if (!rootTask) throw new Error('no root task');
    await b.applyResult(resultOf(rootTask, { ok: true }));

    const branchTasks = (await messages<TaskMessage>('BATON_TASKS', 'baton.tasks.it.branch')).filter(
      (t) => t.executionId === 'race-1',
    );
    expect(branchTasks).toHaveLength(8);
    // Half of the results through each instance, all at once: compare-and-set conflicts must resolve.
    await Promise.all(branchTasks.map((t, i) => (i % 2 === 0 ? a : b).applyResult(resultOf(t, { i }))));

    const joinTasks = (await messages<TaskMessage>('BATON_TASKS', 'baton.tasks.it.join')).filter(
      (t) => t.executionId === 'race-1',
    );
    expect(joinTasks).toHaveLength(1);
    const final = await a.get('race-1');
    expect(
      Object.entries(final?.steps ?? {}).filter(([, s]) => s.status === StepStatus.COMPLETED),
    ).toHaveLength(9);

    const batches = await messages<HistoryBatch>('BATON_HISTORY', 'baton.history.race-1');
    const seqs = batches.flatMap((h) => h.events.map((e) => e.seq)).sort((x, y) => x - y);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(new Set(batches.map((h) => h.revision)).size).toBe(batches.length);
  });

  it('re-publishes the outbox of a transition whose writer crashed before publishing, without duplicates', async () => {
    const crashing: FaultPoints = {
      hit: (point) => {
        if (point === 'after-state-write') throw new Error('crash after state write');
      },
    };
    const first = runner();
    const { record } = await first.start(fan, { executionId: 'crash-1', input: {}, cause: 'test' });
    const rootTask = record.outbox.find((e) => e.subject === 'baton.tasks.it.root')?.body as TaskMessage;

    await expect(runner(crashing).applyResult(resultOf(rootTask, { ok: 1 }))).rejects.toThrow(
      'crash after state write',
    );
    expect(
      (await messages<TaskMessage>('BATON_TASKS', 'baton.tasks.it.branch')).filter(
        (t) => t.executionId === 'crash-1',
      ),
    ).toHaveLength(0);

    // The redelivered result reaches another instance: the state already has it, the outbox goes out.
    const survivor = runner();
    await survivor.applyResult(resultOf(rootTask, { ok: 1 }));
    await survivor.applyResult(resultOf(rootTask, { ok: 1 }));
    const branches = (await messages<TaskMessage>('BATON_TASKS', 'baton.tasks.it.branch')).filter(
      (t) => t.executionId === 'crash-1',
    );
    expect(branches).toHaveLength(8);
    const record2 = await survivor.get('crash-1');
    expect(record2?.status).toBe(ExecutionStatus.RUNNING);
    expect(record2?.revision).toBe(2);
  });

  it('publishes the outbox of a start whose writer crashed before publishing, when the start comes again', async () => {
    const crashing: FaultPoints = {
      hit: (point) => {
        if (point === 'after-state-write') throw new Error('crash after state write');
      },
    };
    const params = { executionId: 'crash-start-1', input: {}, cause: 'test' };
    await expect(runner(crashing).start(fan, params)).rejects.toThrow('crash after state write');
    const roots = async () =>
      (await messages<TaskMessage>('BATON_TASKS', 'baton.tasks.it.root')).filter(
        (t) => t.executionId === 'crash-start-1',
      );
    expect(await roots()).toHaveLength(0);

    // The redelivered start reaches another instance: its create fails on the existing key, and the
    // stored record's outbox goes out; once more on the same instance (from its cache) adds nothing.
    const survivor = runner();
    const again = await survivor.start(fan, params);
    expect(again.created).toBe(false);
    expect(again.record.revision).toBe(1);
    expect(await survivor.start(fan, params)).toMatchObject({ created: false });
    expect(await roots()).toHaveLength(1);
  });

  it('starts an execution id once, whichever instance sees it first', async () => {
    const results = await Promise.all(
      [runner(), runner(), runner()].map((r) =>
        r.start(fan, { executionId: 'once-1', input: { n: 1 }, cause: 'test' }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const roots = (await messages<TaskMessage>('BATON_TASKS', 'baton.tasks.it.root')).filter(
      (t) => t.executionId === 'once-1',
    );
    expect(roots).toHaveLength(1);
  });

  it('re-drives a stale execution: history always, a task only when its subject holds no message', async () => {
    const r = runner();
    const { record } = await r.start(fan, { executionId: 'stale-1', input: {}, cause: 'test' });
    expect(record.outbox.map((e) => e.subject)).toContain('baton.tasks.it.root');
    const republished: string[] = [];
    const counts = new Map<string, number>();
    const redriver = new Redriver(
      new ExecutionStore(kv),
      { publish: async (_subject, _body, opts) => void republished.push(opts.msgId) },
      { countsBySubject: async () => counts },
      { staleAfterMs: 60_000, now: () => Date.now() + 120_000 },
    );
    counts.set('baton.tasks.it.root', 3);
    const queued = await redriver.sweep();
    expect(queued.tasksStillQueued).toBeGreaterThanOrEqual(1);
    expect(republished).toContain('history:stale-1:1');
    expect(republished).not.toContain('task:stale-1.root.1');

    counts.clear();
    republished.length = 0;
    const later = new Redriver(
      new ExecutionStore(kv),
      { publish: async (_subject, _body, opts) => void republished.push(opts.msgId) },
      { countsBySubject: async () => counts },
      { staleAfterMs: 60_000, now: () => Date.now() + 240_000 },
    );
    await later.sweep();
    expect(republished).toContain('task:stale-1.root.1');
  });
});
