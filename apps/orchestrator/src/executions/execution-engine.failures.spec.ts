import { ExecutionStatus, HistoryEventType, StepStatus, Subjects, TimerPurpose } from '@baton/contracts';
import type {
  ErrorPolicy,
  EscalationAlert,
  HistoryBatch,
  OrchestratorTimer,
  StepDefinition,
  TaskCancelNotice,
  TaskMessage,
  TaskResult,
  TimerSetRequest,
  WorkflowDefinition,
} from '@baton/contracts';
import { ExpressionEvaluator } from '@baton/workflow';

import { ExecutionEngine } from './execution-engine';
import type { CircuitGate, EngineOptions, EventWaitEntry, PolicyResolver } from './execution-engine';
import type { ExecutionRecord } from './execution.model';

/** Retries, deadlines, heartbeats, waits, signals, sagas, error policies, circuits and operator actions. */
describe('ExecutionEngine — time and failure', () => {
  let evaluator: ExpressionEvaluator;
  let clock: number;

  beforeAll(() => {
    evaluator = new ExpressionEvaluator({ poolSize: 1 });
  });
  afterAll(async () => {
    await evaluator.close();
  });

  const T0 = Date.parse('2026-01-01T00:00:00Z');
  const engineWith = (options: Partial<EngineOptions> = {}): ExecutionEngine => {
    clock = T0;
    let n = 0;
    return new ExecutionEngine({
      evaluator,
      now: () => new Date(clock),
      maxOutputBytes: 4096,
      maxStateBytes: 256 * 1024,
      nonce: () => `nonce${++n}`,
      random: () => 0.5,
      ...options,
    });
  };

  const tasksIn = (record: ExecutionRecord): TaskMessage[] =>
    record.outbox.filter((e) => e.subject.startsWith('baton.tasks.')).map((e) => e.body as TaskMessage);
  const timersIn = (record: ExecutionRecord): TimerSetRequest[] =>
    record.outbox.filter((e) => e.subject === Subjects.schedTimerSet).map((e) => e.body as TimerSetRequest);
  const eventsOf = (record: ExecutionRecord): string[] =>
    (record.outbox.find((e) => e.subject.startsWith('baton.history.'))?.body as HistoryBatch).events.map(
      (e) => e.type,
    );
  const result = (
    task: TaskMessage,
    outcome: { output?: unknown; error?: TaskResult['error'] },
  ): TaskResult => ({
    protocol: 1,
    taskId: task.taskId,
    executionId: task.executionId,
    stepId: task.stepId,
    attempt: task.attempt,
    ...(outcome.error
      ? { status: 'failed' as const, error: outcome.error }
      : { status: 'completed' as const }),
    ...(outcome.output !== undefined ? { output: outcome.output } : {}),
  });
  const fire = (timer: TimerSetRequest): OrchestratorTimer => timer.payload as OrchestratorTimer;
  const must = (record: ExecutionRecord | null): ExecutionRecord => {
    if (!record) throw new Error('expected a transition');
    return record;
  };
  const start = (engine: ExecutionEngine, def: WorkflowDefinition, input: unknown = {}) =>
    engine.start(def, { executionId: 'ex1', input, cause: 'test' });

  const retried: WorkflowDefinition = {
    id: 'retried',
    version: 1,
    steps: [
      {
        id: 'charge',
        type: 'task',
        action: 'pay.charge',
        retryPolicy: { maxAttempts: 3, initialIntervalMs: 1000, backoffCoefficient: 2, jitter: false },
      },
    ],
  };

  it('retries a failed attempt after its backoff through a scheduler timer, every attempt in history', async () => {
    const engine = engineWith();
    const r1 = await start(engine, retried);
    const [t1] = tasksIn(r1);
    clock += 10;
    const r2 = must(
      await engine.applyResult(retried, r1, result(t1, { error: { type: 'Declined', message: 'no' } })),
    );
    expect(r2.steps.charge).toMatchObject({ status: StepStatus.SCHEDULED, attempt: 1 });
    expect(r2.steps.charge.retryAt).toBe(new Date(T0 + 10 + 1000).toISOString());
    expect(eventsOf(r2)).toEqual([HistoryEventType.STEP_RETRY_SCHEDULED]);
    const [timer] = timersIn(r2);
    expect(timer).toMatchObject({ subject: Subjects.timer('ex1'), dueAt: r2.steps.charge.retryAt });
    expect(fire(timer)).toMatchObject({ purpose: TimerPurpose.RETRY, attempt: 1, stepId: 'charge' });
    expect(r2.outbox.find((e) => e.subject === Subjects.schedTimerSet)?.msgId).toBe(`timer-set:${timer.id}`);

    // A redelivered copy of the failed result changes nothing.
    expect(
      await engine.applyResult(retried, r2, result(t1, { error: { type: 'Declined', message: 'no' } })),
    ).toBeNull();

    clock += 1000;
    const r3 = must(await engine.applyTimer(retried, r2, fire(timer)));
    const [t2] = tasksIn(r3);
    expect(t2).toMatchObject({ attempt: 2, taskId: 'ex1.charge.2', idempotencyKey: t1.idempotencyKey });
    // The same timer again (a redelivery) is stale.
    expect(await engine.applyTimer(retried, r3, fire(timer))).toBeNull();

    const r4 = must(
      await engine.applyResult(retried, r3, result(t2, { error: { type: 'Declined', message: 'no' } })),
    );
    expect(timersIn(r4)[0].dueAt).toBe(new Date(clock + 2000).toISOString());
    const r5 = must(await engine.applyTimer(retried, r4, fire(timersIn(r4)[0])));
    const [t3] = tasksIn(r5);
    const r6 = must(
      await engine.applyResult(retried, r5, result(t3, { error: { type: 'Declined', message: 'no' } })),
    );
    expect(r6.status).toBe(ExecutionStatus.FAILED);
    expect(r6.steps.charge).toMatchObject({ status: StepStatus.FAILED, attempt: 3 });
    expect(r6.error).toMatchObject({ type: 'Declined', stepId: 'charge' });
  });

  it('does not retry non-retryable errors, by flag or by the policy list', async () => {
    const def: WorkflowDefinition = {
      ...retried,
      steps: [{ ...retried.steps[0], retryPolicy: { maxAttempts: 5, nonRetryableErrors: ['OutOfStock'] } }],
    };
    const engine = engineWith();
    const r1 = await start(engine, def);
    const listed = must(
      await engine.applyResult(
        def,
        r1,
        result(tasksIn(r1)[0], { error: { type: 'OutOfStock', message: 'x' } }),
      ),
    );
    expect(listed.status).toBe(ExecutionStatus.FAILED);
    const flagged = must(
      await engine.applyResult(
        def,
        r1,
        result(tasksIn(r1)[0], { error: { type: 'Other', message: 'x', nonRetryable: true } }),
      ),
    );
    expect(flagged.status).toBe(ExecutionStatus.FAILED);
  });

  const timed: WorkflowDefinition = {
    id: 'timed',
    version: 1,
    steps: [
      {
        id: 'slow',
        type: 'task',
        action: 'w.slow',
        timeoutSeconds: 10,
        retryPolicy: { maxAttempts: 2, initialIntervalMs: 100, jitter: false },
      },
    ],
  };

  it('times out an attempt at its deadline (retryable), and records the late result as stale', async () => {
    const engine = engineWith();
    const r1 = await start(engine, timed);
    const [t1] = tasksIn(r1);
    expect(t1.deadline).toBe(new Date(T0 + 10_000).toISOString());
    const [deadline] = timersIn(r1);
    expect(fire(deadline).purpose).toBe(TimerPurpose.DEADLINE);
    clock = T0 + 10_000;
    const r2 = must(await engine.applyTimer(timed, r1, fire(deadline)));
    expect(eventsOf(r2)).toEqual([HistoryEventType.STEP_TIMED_OUT, HistoryEventType.STEP_RETRY_SCHEDULED]);
    expect(r2.steps.slow.error?.type).toBe('TIMEOUT');
    const cancel = r2.outbox.find((e) => e.subject === Subjects.taskCancelled('ex1'))
      ?.body as TaskCancelNotice;
    expect(cancel.taskIds).toEqual([t1.taskId]);
    const late = must(await engine.applyResult(timed, r2, result(t1, { output: { late: true } })));
    expect(eventsOf(late)).toEqual([HistoryEventType.STALE_RESULT_IGNORED]);
    expect(late.steps.slow.status).toBe(StepStatus.SCHEDULED);
  });

  it('moves the deadline with heartbeats: a timer armed before the heartbeat re-arms instead of failing', async () => {
    const engine = engineWith();
    const r1 = await start(engine, timed);
    const [t1] = tasksIn(r1);
    clock = T0 + 8_000;
    const beat = {
      protocol: 1,
      kind: 'heartbeat' as const,
      taskId: t1.taskId,
      executionId: 'ex1',
      stepId: 'slow',
      attempt: 1,
      at: '',
    };
    const r2 = must(engine.applyHeartbeat(timed, r1, beat));
    expect(r2.steps.slow).toMatchObject({
      status: StepStatus.RUNNING,
      deadlineAt: new Date(T0 + 18_000).toISOString(),
    });
    // Heartbeats inside a second of the last write change nothing.
    clock += 200;
    expect(engine.applyHeartbeat(timed, r2, beat)).toBeNull();
    clock = T0 + 10_000;
    const r3 = must(await engine.applyTimer(timed, r2, fire(timersIn(r1)[0])));
    expect(r3.steps.slow.status).toBe(StepStatus.RUNNING);
    const [rearmed] = timersIn(r3);
    expect(rearmed.dueAt).toBe(new Date(T0 + 18_000).toISOString());
    clock = T0 + 18_000;
    const r4 = must(await engine.applyTimer(timed, r3, fire(rearmed)));
    expect(r4.steps.slow.error?.type).toBe('TIMEOUT');
  });

  const waits: WorkflowDefinition = {
    id: 'waits',
    version: 1,
    steps: [
      { id: 'pause', type: 'wait', parameters: { seconds: 60 } },
      {
        id: 'approval',
        type: 'wait',
        parameters: { signal: 'approved', timeoutSeconds: 3600 },
        dependencies: ['pause'],
      },
      {
        id: 'done',
        type: 'task',
        action: 'w.done',
        parameters: { by: '{% $steps.approval.output.payload.by %}' },
        dependencies: ['approval'],
      },
    ],
  };

  it('waits for time and for a signal without any task, WAITING meanwhile; a signal sent early is kept', async () => {
    const engine = engineWith();
    const r1 = await start(engine, waits);
    expect(r1.status).toBe(ExecutionStatus.WAITING);
    expect(tasksIn(r1)).toEqual([]);
    const [pause] = timersIn(r1);
    expect(pause.dueAt).toBe(new Date(T0 + 60_000).toISOString());
    const signal = {
      executionId: 'ex1',
      name: 'approved',
      signalId: 's1',
      payload: { by: 'ana' },
      sentAt: '',
    };
    const r2 = must(await engine.applySignal(waits, r1, signal));
    expect(r2.signals?.approved).toHaveLength(1);
    expect(await engine.applySignal(waits, r2, signal)).toBeNull();
    clock = T0 + 60_000;
    const r3 = must(await engine.applyTimer(waits, r2, fire(pause)));
    expect(r3.steps.pause.status).toBe(StepStatus.COMPLETED);
    expect(r3.steps.approval).toMatchObject({
      status: StepStatus.COMPLETED,
      output: { signal: 'approved', payload: { by: 'ana' } },
    });
    expect(tasksIn(r3)[0].input).toEqual({ by: 'ana' });
    expect(r3.status).toBe(ExecutionStatus.RUNNING);
    expect(r3.signals?.approved).toBeUndefined();
  });

  it('fails a signal wait with TIMEOUT when its timeout fires first', async () => {
    const engine = engineWith();
    const def: WorkflowDefinition = {
      id: 'w',
      version: 1,
      steps: [{ id: 'approval', type: 'wait', parameters: { signal: 'ok', timeoutSeconds: 5 } }],
    };
    const r1 = await start(engine, def);
    const [timeout] = timersIn(r1);
    expect(fire(timeout).purpose).toBe(TimerPurpose.WAIT_TIMEOUT);
    clock = T0 + 5000;
    const r2 = must(await engine.applyTimer(def, r1, fire(timeout)));
    expect(r2.status).toBe(ExecutionStatus.FAILED);
    expect(r2.steps.approval.error?.type).toBe('TIMEOUT');
    expect(
      await engine.applySignal(def, r2, { executionId: 'ex1', name: 'ok', signalId: 'late', sentAt: '' }),
    ).toBeNull();
  });

  it('indexes an event wait in the waits bucket and completes it on a match, removing the entry', async () => {
    const engine = engineWith();
    const def: WorkflowDefinition = {
      id: 'ev',
      version: 1,
      steps: [
        {
          id: 'paid',
          type: 'wait',
          parameters: { event: 'events.payment.*', condition: { all: [] }, timeoutSeconds: 60 },
        },
      ],
    };
    const r1 = await start(engine, def);
    const put = r1.outbox.find((e) => e.subject === '$KV.baton_waits.ex1.paid');
    expect(put?.body as EventWaitEntry).toMatchObject({
      executionId: 'ex1',
      stepId: 'paid',
      attempt: 1,
      subject: 'events.payment.*',
    });
    const r2 = must(
      await engine.applyEventMatch(def, r1, {
        protocol: 1,
        kind: 'event',
        executionId: 'ex1',
        stepId: 'paid',
        attempt: 1,
        subject: 'events.payment.done',
        eventSeq: 7,
        event: { id: 1 },
      }),
    );
    expect(r2.status).toBe(ExecutionStatus.COMPLETED);
    expect(r2.steps.paid.output).toEqual({ subject: 'events.payment.done', event: { id: 1 } });
    const del = r2.outbox.find((e) => e.subject === '$KV.baton_waits.ex1.paid');
    expect(del?.headers?.['KV-Operation']).toBe('DEL');
    expect(r2.outbox.some((e) => e.subject === Subjects.schedTimerCancel)).toBe(true);
  });

  const saga: WorkflowDefinition = {
    id: 'saga',
    version: 1,
    steps: [
      {
        id: 'reserve',
        type: 'task',
        action: 'inv.reserve',
        compensation: { action: 'inv.release', parameters: { why: 'saga' } },
      },
      {
        id: 'charge',
        type: 'task',
        action: 'pay.charge',
        dependencies: ['reserve'],
        compensation: { action: 'pay.refund' },
      },
      { id: 'ship', type: 'task', action: 'ship.send', dependencies: ['charge'] },
    ],
  };

  const runToShip = async (engine: ExecutionEngine) => {
    let r = await start(engine, saga);
    r = must(await engine.applyResult(saga, r, result(tasksIn(r)[0], { output: { res: 1 } })));
    r = must(await engine.applyResult(saga, r, result(tasksIn(r)[0], { output: { paid: 2 } })));
    return must(
      await engine.applyResult(
        saga,
        r,
        result(tasksIn(r)[0], { error: { type: 'Lost', message: 'truck', nonRetryable: true } }),
      ),
    );
  };

  it('compensates completed steps in reverse completion order, each seeing its step input and output', async () => {
    const engine = engineWith();
    const r1 = await runToShip(engine);
    expect(r1.status).toBe(ExecutionStatus.COMPENSATING);
    const [refund] = tasksIn(r1);
    expect(refund).toMatchObject({ action: 'pay.refund', compensation: true, taskId: 'ex1.charge.c1' });
    expect(refund.compensates).toEqual({ stepId: 'charge', input: {}, output: { paid: 2 } });
    const r2 = must(await engine.applyResult(saga, r1, result(refund, { output: { refunded: true } })));
    expect(r2.steps.charge.status).toBe(StepStatus.COMPENSATED);
    const [release] = tasksIn(r2);
    expect(release).toMatchObject({ action: 'inv.release', input: { why: 'saga' } });
    const r3 = must(await engine.applyResult(saga, r2, result(release, { output: {} })));
    expect(r3.status).toBe(ExecutionStatus.COMPENSATED);
    expect(r3.error).toMatchObject({ type: 'Lost', stepId: 'ship' });
    expect(r3.outbox.some((e) => e.subject === Subjects.executionFinished('saga', 'COMPENSATED'))).toBe(true);
  });

  it('evaluates expressions in compensation parameters over $input and $steps, as in step parameters', async () => {
    const def: WorkflowDefinition = {
      ...saga,
      id: 'saga-expr',
      steps: saga.steps.map((s) =>
        s.id === 'charge'
          ? {
              ...s,
              compensation: {
                action: 'pay.refund',
                parameters: {
                  orderId: '{% $input.orderId %}',
                  amount: '{% $steps.charge.output.paid %}',
                  note: 'literal',
                },
              },
            }
          : s,
      ),
    };
    const engine = engineWith();
    let r = await start(engine, def, { orderId: 'o-7' });
    r = must(await engine.applyResult(def, r, result(tasksIn(r)[0], { output: { res: 1 } })));
    r = must(await engine.applyResult(def, r, result(tasksIn(r)[0], { output: { paid: 2 } })));
    r = must(
      await engine.applyResult(
        def,
        r,
        result(tasksIn(r)[0], { error: { type: 'Lost', message: 'truck', nonRetryable: true } }),
      ),
    );
    const [refund] = tasksIn(r);
    expect(refund).toMatchObject({
      action: 'pay.refund',
      input: { orderId: 'o-7', amount: 2, note: 'literal' },
    });
    expect(r.steps.charge.compensation?.input).toEqual({ orderId: 'o-7', amount: 2, note: 'literal' });
  });

  it('fails a compensation whose parameters cannot be evaluated: the execution ends FAILED, needing attention', async () => {
    const def: WorkflowDefinition = {
      ...saga,
      id: 'saga-bad-expr',
      steps: saga.steps.map((s) =>
        s.id === 'charge'
          ? { ...s, compensation: { action: 'pay.refund', parameters: { x: '{% $undefinedFn(1) %}' } } }
          : s,
      ),
    };
    const engine = engineWith();
    let r = await start(engine, def);
    r = must(await engine.applyResult(def, r, result(tasksIn(r)[0], { output: {} })));
    r = must(await engine.applyResult(def, r, result(tasksIn(r)[0], { output: {} })));
    r = must(
      await engine.applyResult(
        def,
        r,
        result(tasksIn(r)[0], { error: { type: 'Lost', message: 'truck', nonRetryable: true } }),
      ),
    );
    expect(tasksIn(r)).toEqual([]);
    expect(r.status).toBe(ExecutionStatus.FAILED);
    expect(r.attention?.stepId).toBe('charge');
    expect(r.steps.charge.compensation).toMatchObject({
      status: 'FAILED',
      error: { type: 'EXPRESSION_FAILED' },
    });
    expect(eventsOf(r)).toEqual(
      expect.arrayContaining([HistoryEventType.COMPENSATION_FAILED, HistoryEventType.EXECUTION_FAILED]),
    );
  });

  it('ends FAILED and flagged for attention when a compensation fails after its retries; retry resumes it', async () => {
    const engine = engineWith();
    let r = await runToShip(engine);
    for (let i = 1; i <= 3; i++) {
      const [refund] = tasksIn(r);
      expect(refund.attempt).toBe(i);
      r = must(
        await engine.applyResult(saga, r, result(refund, { error: { type: 'Gateway', message: 'down' } })),
      );
      if (i < 3) r = must(await engine.applyTimer(saga, r, fire(timersIn(r)[0])));
    }
    expect(r.status).toBe(ExecutionStatus.FAILED);
    expect(r.attention?.stepId).toBe('charge');
    const resumed = await engine.retry(saga, r);
    expect(resumed.status).toBe(ExecutionStatus.COMPENSATING);
    const [again] = tasksIn(resumed);
    expect(again).toMatchObject({ action: 'pay.refund', attempt: 4 });
    const afterRefund = must(await engine.applyResult(saga, resumed, result(again, { output: {} })));
    const done = must(
      await engine.applyResult(saga, afterRefund, result(tasksIn(afterRefund)[0], { output: {} })),
    );
    expect(done.status).toBe(ExecutionStatus.COMPENSATED);
    expect(done.outbox.find((e) => e.subject.startsWith('baton.events.execution.'))?.msgId).toBe(
      'finished:ex1:1',
    );
  });

  const policyFor = (onExhausted: ErrorPolicy['onExhausted']): PolicyResolver => ({
    resolve: (_def, _step, errorType) =>
      errorType === 'Flaky'
        ? { name: 'p', errorTypes: ['Flaky'], onExhausted, retryPolicy: { maxAttempts: 1 } }
        : undefined,
  });
  const twoSteps: WorkflowDefinition = {
    id: 'two',
    version: 1,
    steps: [
      { id: 'a', type: 'task', action: 'x.a' },
      { id: 'b', type: 'task', action: 'x.b', dependencies: ['a'] },
    ],
  };

  it('continues past a step whose error policy says continue', async () => {
    const engine = engineWith({ policies: policyFor('continue') });
    const r1 = await start(engine, twoSteps);
    const r2 = must(
      await engine.applyResult(
        twoSteps,
        r1,
        result(tasksIn(r1)[0], { error: { type: 'Flaky', message: 'x' } }),
      ),
    );
    expect(r2.steps.a).toMatchObject({ status: StepStatus.FAILED, continued: true });
    expect(tasksIn(r2)[0].action).toBe('x.b');
  });

  it('escalates: publishes the alert, parks the execution WAITING, and an operator retry resumes the step', async () => {
    const engine = engineWith({ policies: policyFor('escalate') });
    const r1 = await start(engine, twoSteps);
    const r2 = must(
      await engine.applyResult(
        twoSteps,
        r1,
        result(tasksIn(r1)[0], { error: { type: 'Flaky', message: 'x' } }),
      ),
    );
    expect(r2.status).toBe(ExecutionStatus.WAITING);
    expect(r2.parked?.stepId).toBe('a');
    const alert = r2.outbox.find((e) => e.subject === Subjects.escalation)?.body as EscalationAlert;
    expect(alert).toMatchObject({ executionId: 'ex1', stepId: 'a', error: { type: 'Flaky' } });
    const r3 = await engine.retry(twoSteps, r2);
    expect(r3.status).toBe(ExecutionStatus.RUNNING);
    expect(tasksIn(r3)[0]).toMatchObject({ action: 'x.a', attempt: 2 });
  });

  it('terminates: cancels the running attempt, skips the rest, refuses a second time', async () => {
    const engine = engineWith();
    const r1 = await start(engine, twoSteps);
    const r2 = engine.terminate(twoSteps, r1, 'customer left');
    expect(r2.status).toBe(ExecutionStatus.TERMINATED);
    expect(r2.steps.a.error?.type).toBe('CANCELLED');
    expect(r2.steps.b.status).toBe(StepStatus.SKIPPED);
    const cancel = r2.outbox.find((e) => e.subject === Subjects.taskCancelled('ex1'))
      ?.body as TaskCancelNotice;
    expect(cancel.taskIds).toEqual(['ex1.a.1']);
    expect(() => engine.terminate(twoSteps, r2, 'again')).toThrow(/already TERMINATED/);
    await expect(engine.retry(twoSteps, r2)).rejects.toThrow(/only FAILED or escalated/);
  });

  it('resumes a FAILED execution from its failed step, keeping completed outputs', async () => {
    const engine = engineWith();
    let r = await start(engine, twoSteps);
    r = must(await engine.applyResult(twoSteps, r, result(tasksIn(r)[0], { output: { a: 1 } })));
    r = must(
      await engine.applyResult(twoSteps, r, result(tasksIn(r)[0], { error: { type: 'Boom', message: 'x' } })),
    );
    expect(r.status).toBe(ExecutionStatus.FAILED);
    const resumed = await engine.retry(twoSteps, r);
    expect(resumed.steps.a).toMatchObject({ status: StepStatus.COMPLETED, output: { a: 1 } });
    const [b2] = tasksIn(resumed);
    expect(b2).toMatchObject({ action: 'x.b', attempt: 2 });
    const done = must(await engine.applyResult(twoSteps, resumed, result(b2, { output: { b: 2 } })));
    expect(done.status).toBe(ExecutionStatus.COMPLETED);
  });

  it('holds attempts of an action whose circuit is open, without failing them, and reports outcomes after the write', async () => {
    const recorded: string[] = [];
    let open = true;
    const gate: CircuitGate = {
      check: (_action, now) => (open ? { allowed: false, retryAt: now + 5000 } : { allowed: true }),
      record: (action, outcome) => recorded.push(`${action}:${outcome}`),
    };
    const engine = engineWith({ circuits: gate });
    const r1 = await start(engine, twoSteps);
    expect(tasksIn(r1)).toEqual([]);
    expect(r1.steps.a).toMatchObject({ status: StepStatus.SCHEDULED, attempt: 0 });
    const [hold] = timersIn(r1);
    expect(fire(hold).purpose).toBe(TimerPurpose.HOLD);
    open = false;
    clock += 5000;
    const r2 = must(await engine.applyTimer(twoSteps, r1, fire(hold)));
    expect(tasksIn(r2)[0]).toMatchObject({ action: 'x.a', attempt: 1 });
    const r3 = must(await engine.applyResult(twoSteps, r2, result(tasksIn(r2)[0], { output: {} })));
    expect(recorded).toEqual([]);
    engine.committed(r3);
    expect(recorded).toEqual(['x.a:success']);
  });

  it('pins decision requests to the execution start unless the definition asks for the latest rules', async () => {
    const decision: StepDefinition = {
      id: 'd',
      type: 'decision',
      action: 'fraud',
      branches: { default: [] },
    };
    const pinned = await start(engineWith(), { id: 'dp', version: 1, steps: [decision] });
    const request = pinned.outbox.find((e) => e.subject === Subjects.decision('fraud'))?.body as TaskMessage;
    expect(request.rulesAsOf).toBe(pinned.startedAt);
    const latest = await start(engineWith(), { id: 'dl', version: 1, rules: 'latest', steps: [decision] });
    const unpinned = latest.outbox.find((e) => e.subject === Subjects.decision('fraud'))?.body as TaskMessage;
    expect(unpinned.rulesAsOf).toBeUndefined();
  });
});
