import { ExecutionStatus, HistoryEventType, StepStatus } from '@baton/contracts';
import type { HistoryBatch, TaskMessage, TaskResult, WorkflowDefinition } from '@baton/contracts';
import { ExpressionEvaluator } from '@baton/workflow';

import { ExecutionEngine, decodeTaskToken } from './execution-engine';
import type { ExecutionRecord } from './execution.model';

const fanOut: WorkflowDefinition = {
  id: 'fan',
  version: 1,
  output: '{% { "total": $steps.sum.output.total, "final": $steps.final.output.ok } %}',
  steps: [
    { id: 'split', type: 'task', action: 'e2e.split', parameters: { n: '{% $input.n %}' } },
    { id: 'a', type: 'task', action: 'e2e.work', parameters: { part: 'a' }, dependencies: ['split'] },
    { id: 'b', type: 'task', action: 'e2e.work', parameters: { part: 'b' }, dependencies: ['split'] },
    { id: 'c', type: 'task', action: 'e2e.work', parameters: { part: 'c' }, dependencies: ['split'] },
    {
      id: 'sum',
      type: 'task',
      action: 'e2e.sum',
      parameters: { parts: '{% [$steps.a.output.v, $steps.b.output.v, $steps.c.output.v] %}' },
      dependencies: ['a', 'b', 'c'],
    },
    { id: 'final', type: 'task', action: 'e2e.final', dependencies: ['sum'] },
  ],
};

describe('ExecutionEngine', () => {
  let evaluator: ExpressionEvaluator;
  let engine: ExecutionEngine;
  let clock: number;

  beforeAll(() => {
    evaluator = new ExpressionEvaluator({ poolSize: 1 });
  });
  afterAll(async () => {
    await evaluator.close();
  });
  beforeEach(() => {
    clock = Date.parse('2026-01-01T00:00:00Z');
    let n = 0;
    engine = new ExecutionEngine({
      evaluator,
      now: () => new Date((clock += 1)),
      maxOutputBytes: 1024,
      maxStateBytes: 64 * 1024,
      nonce: () => `nonce${++n}`,
    });
  });

  const tasksIn = (record: ExecutionRecord): TaskMessage[] =>
    record.outbox.filter((e) => e.subject.startsWith('baton.tasks.')).map((e) => e.body as TaskMessage);
  const historyIn = (record: ExecutionRecord): HistoryBatch =>
    record.outbox.find((e) => e.subject.startsWith('baton.history.'))?.body as HistoryBatch;
  const resultFor = (task: TaskMessage, output: unknown): TaskResult => ({
    protocol: 1,
    taskId: task.taskId,
    executionId: task.executionId,
    stepId: task.stepId,
    attempt: task.attempt,
    status: 'completed',
    output,
  });
  const complete = async (
    record: ExecutionRecord,
    stepId: string,
    output: unknown,
  ): Promise<ExecutionRecord> => {
    const step = record.steps[stepId];
    if (!step?.taskId) throw new Error(`step ${stepId} has no task`);
    const next = await engine.applyResult(fanOut, record, {
      protocol: 1,
      taskId: step.taskId,
      executionId: record.id,
      stepId,
      attempt: step.attempt,
      status: 'completed',
      output,
    });
    if (!next) throw new Error('no transition');
    return next;
  };

  it('starts with the root steps scheduled, each task with stable ids and evaluated parameters', async () => {
    const record = await engine.start(fanOut, { executionId: 'ex1', input: { n: 3 }, cause: 'api' });
    expect(record.revision).toBe(1);
    expect(record.status).toBe(ExecutionStatus.RUNNING);
    expect(record.steps['split']?.status).toBe(StepStatus.SCHEDULED);
    expect(record.steps['a']?.status).toBe(StepStatus.PENDING);
    const [task] = tasksIn(record);
    expect(task).toMatchObject({
      taskId: 'ex1.split.1',
      action: 'e2e.split',
      input: { n: 3 },
      idempotencyKey: 'ex1:split',
      replyTo: 'baton.orch.result.ex1',
      attempt: 1,
    });
    expect(record.outbox.map((e) => e.msgId)).toEqual(['task:ex1.split.1', 'history:ex1:1']);
    expect(decodeTaskToken(task?.token ?? '')).toEqual({
      executionId: 'ex1',
      stepId: 'split',
      attempt: 1,
      nonce: 'nonce1',
    });
    expect(historyIn(record).events.map((e) => e.type)).toEqual([
      HistoryEventType.EXECUTION_STARTED,
      HistoryEventType.STEP_SCHEDULED,
    ]);
  });

  it('fans out, joins on all three branches, and completes with the output expression', async () => {
    let record = await engine.start(fanOut, { executionId: 'ex2', input: { n: 3 }, cause: 'api' });
    record = await complete(record, 'split', { ok: true });
    expect(tasksIn(record).map((t) => t.stepId)).toEqual(['a', 'b', 'c']);
    record = await complete(record, 'b', { v: 2 });
    record = await complete(record, 'a', { v: 1 });
    expect(record.steps['sum']?.status).toBe(StepStatus.PENDING);
    expect(tasksIn(record)).toEqual([]);
    record = await complete(record, 'c', { v: 3 });
    const [sumTask] = tasksIn(record);
    expect(sumTask?.input).toEqual({ parts: [1, 2, 3] });
    record = await complete(record, 'sum', { total: 6 });
    record = await complete(record, 'final', { ok: 'yes' });
    expect(record.status).toBe(ExecutionStatus.COMPLETED);
    expect(record.output).toEqual({ total: 6, final: 'yes' });
    const notice = record.outbox.find((e) => e.subject === 'baton.events.execution.fan.completed');
    expect(notice?.msgId).toBe('finished:ex2');
    expect(notice?.body).toMatchObject({
      executionId: 'ex2',
      status: 'COMPLETED',
      output: { total: 6, final: 'yes' },
    });
    const seqs = historyIn(record).events.map((e) => e.seq);
    expect(seqs[seqs.length - 1]).toBe(record.seq);
  });

  it('treats a redelivered result as already applied, and records a stale one once', async () => {
    const started = await engine.start(fanOut, { executionId: 'ex3', input: { n: 1 }, cause: 'api' });
    const [task] = tasksIn(started);
    if (!task) throw new Error('no task');
    const after = (await engine.applyResult(fanOut, started, resultFor(task, { ok: 1 }))) as ExecutionRecord;
    expect(await engine.applyResult(fanOut, after, resultFor(task, { ok: 1 }))).toBeNull();

    const stale: TaskResult = { ...resultFor(task, { ok: 2 }), taskId: 'ex3.a.7', stepId: 'a', attempt: 7 };
    const ignored = (await engine.applyResult(fanOut, after, stale)) as ExecutionRecord;
    expect(historyIn(ignored).events).toEqual([
      expect.objectContaining({ type: HistoryEventType.STALE_RESULT_IGNORED, stepId: 'a', attempt: 7 }),
    ]);
    expect(ignored.steps['a']?.status).toBe(StepStatus.SCHEDULED);
    expect(tasksIn(ignored)).toEqual([]);
    expect(await engine.applyResult(fanOut, ignored, stale)).toBeNull();
  });

  it('fails the step and the execution when a worker reports failure', async () => {
    const started = await engine.start(fanOut, { executionId: 'ex4', input: { n: 1 }, cause: 'api' });
    const [task] = tasksIn(started);
    if (!task) throw new Error('no task');
    const failed = (await engine.applyResult(fanOut, started, {
      ...resultFor(task, undefined),
      status: 'failed',
      error: { type: 'CardDeclined', message: 'declined', nonRetryable: true },
    })) as ExecutionRecord;
    expect(failed.steps['split']).toMatchObject({
      status: StepStatus.FAILED,
      error: { type: 'CardDeclined' },
    });
    expect(failed.status).toBe(ExecutionStatus.FAILED);
    expect(failed.error).toMatchObject({ type: 'CardDeclined', stepId: 'split' });
    expect(failed.outbox.some((e) => e.subject === 'baton.events.execution.fan.failed')).toBe(true);
  });

  it('fails a step whose output is over the limit', async () => {
    const started = await engine.start(fanOut, { executionId: 'ex5', input: { n: 1 }, cause: 'api' });
    const [task] = tasksIn(started);
    if (!task) throw new Error('no task');
    const next = (await engine.applyResult(
      fanOut,
      started,
      resultFor(task, { blob: 'x'.repeat(5000) }),
    )) as ExecutionRecord;
    expect(next.steps['split']?.error?.type).toBe('OUTPUT_TOO_LARGE');
    expect(next.status).toBe(ExecutionStatus.FAILED);
  });

  it('fails the execution with STATE_TOO_LARGE when its record outgrows the bound, dropping outputs', async () => {
    const small = new ExecutionEngine({
      evaluator,
      maxOutputBytes: 1024,
      maxStateBytes: 4096,
      nonce: () => 'n',
    });
    let record = await small.start(fanOut, { executionId: 'big', input: { n: 1 }, cause: 'api' });
    const big = 'y'.repeat(900);
    const step = (id: string) => record.steps[id] as { taskId: string; attempt: number };
    const feed = async (id: string) => {
      record = (await small.applyResult(fanOut, record, {
        protocol: 1,
        taskId: step(id).taskId,
        executionId: 'big',
        stepId: id,
        attempt: step(id).attempt,
        status: 'completed',
        output: { big },
      })) as ExecutionRecord;
    };
    for (const id of ['split', 'a', 'b', 'c']) {
      await feed(id);
      if (record.status !== ExecutionStatus.RUNNING) break;
    }
    expect(record.status).toBe(ExecutionStatus.FAILED);
    expect(record.error?.type).toBe('STATE_TOO_LARGE');
    expect(Object.values(record.steps).every((s) => s.output === undefined)).toBe(true);
    expect(record.outbox.some((e) => e.msgId === 'finished:big')).toBe(true);
    expect(record.outbox.some((e) => e.subject.startsWith('baton.tasks.'))).toBe(false);
  });

  it('asks the rule-engine for decisions and follows the outcome, skipping the other branches', async () => {
    const def: WorkflowDefinition = {
      id: 'decide',
      version: 1,
      steps: [
        {
          id: 'fraud',
          type: 'decision',
          action: 'fraud-policy',
          parameters: { total: '{% $input.total %}' },
          branches: { approve: ['charge'], review: ['review'], default: ['charge'] },
        },
        { id: 'charge', type: 'task', action: 'pay.charge', dependencies: ['fraud'] },
        { id: 'review', type: 'task', action: 'pay.review', dependencies: ['fraud'] },
        { id: 'done', type: 'task', action: 'pay.done', dependencies: ['charge', 'review'], join: 'any' },
      ],
    };
    const record = await engine.start(def, { executionId: 'dec1', input: { total: 5000 }, cause: 'api' });
    const request = record.outbox.find((e) => e.subject === 'baton.decisions.fraud-policy');
    expect(request?.msgId).toBe('task:dec1.fraud.1');
    expect(request?.body).toMatchObject({
      action: 'fraud-policy',
      input: { total: 5000 },
      replyTo: 'baton.orch.result.dec1',
    });
    const decided = (await engine.applyResult(def, record, {
      ...resultFor(request?.body as TaskMessage, { outcome: 'review', rules: [] }),
    })) as ExecutionRecord;
    expect(decided.steps['review']?.status).toBe(StepStatus.SCHEDULED);
    expect(decided.steps['charge']?.status).toBe(StepStatus.SKIPPED);
    expect(tasksIn(decided).map((t) => t.stepId)).toEqual(['review']);
    const reviewed = (await engine.applyResult(
      def,
      decided,
      resultFor(tasksIn(decided)[0], {}),
    )) as ExecutionRecord;
    expect(reviewed.steps['done']?.status).toBe(StepStatus.SCHEDULED);
  });

  it('completes emit steps at once, publishing the event with a stable id', async () => {
    const def: WorkflowDefinition = {
      id: 'emitter',
      version: 1,
      steps: [
        {
          id: 'announce',
          type: 'emit',
          parameters: { subject: 'events.order.done', payload: '{% { "id": $input.id } %}' },
        },
        { id: 'after', type: 'task', action: 'e2e.after', dependencies: ['announce'] },
      ],
    };
    const record = await engine.start(def, { executionId: 'ex6', input: { id: 'o-1' }, cause: 'api' });
    const emitted = record.outbox.find((e) => e.subject === 'events.order.done');
    expect(emitted).toMatchObject({ msgId: 'emit:ex6:announce', body: { id: 'o-1' } });
    expect(record.steps['announce']?.status).toBe(StepStatus.COMPLETED);
    expect(record.steps['after']?.status).toBe(StepStatus.SCHEDULED);
  });

  it('fails the execution with EXPRESSION_FAILED naming the step when parameters cannot be evaluated', async () => {
    const def: WorkflowDefinition = {
      id: 'bad-expr',
      version: 1,
      steps: [
        { id: 'first', type: 'task', action: 'e2e.x', parameters: { v: '{% $number("not a number") %}' } },
      ],
    };
    const record = await engine.start(def, { executionId: 'ex7', input: {}, cause: 'api' });
    expect(record.status).toBe(ExecutionStatus.FAILED);
    expect(record.error?.type).toBe('EXPRESSION_FAILED');
    expect(record.error?.message).toContain("step 'first'");
  });

  it('starts join:any steps once one dependency completed and none is pending', async () => {
    const def: WorkflowDefinition = {
      id: 'any',
      version: 1,
      steps: [
        { id: 'x', type: 'task', action: 'e2e.x' },
        { id: 'y', type: 'task', action: 'e2e.y' },
        { id: 'z', type: 'task', action: 'e2e.z', dependencies: ['x', 'y'], join: 'any' },
      ],
    };
    let record = await engine.start(def, { executionId: 'ex8', input: {}, cause: 'api' });
    const [x, y] = tasksIn(record);
    if (!x || !y) throw new Error('tasks missing');
    record = (await engine.applyResult(def, record, resultFor(x, 1))) as ExecutionRecord;
    expect(record.steps['z']?.status).toBe(StepStatus.PENDING);
    record = (await engine.applyResult(def, record, resultFor(y, 2))) as ExecutionRecord;
    expect(record.steps['z']?.status).toBe(StepStatus.SCHEDULED);
  });

  it('starts an execution as FAILED when its trigger input could not be computed', async () => {
    const record = await engine.start(fanOut, {
      executionId: 'ex9',
      input: null,
      cause: 'event',
      error: { type: 'EXPRESSION_FAILED', message: 'trigger 0 input: boom' },
    });
    expect(record.status).toBe(ExecutionStatus.FAILED);
    expect(tasksIn(record)).toEqual([]);
    expect(record.outbox.some((e) => e.msgId === 'finished:ex9')).toBe(true);
  });
});
