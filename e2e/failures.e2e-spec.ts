import type { WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { Stack } from './support/stack';

interface Live {
  status: string;
  output?: unknown;
  error?: { type: string; stepId?: string };
  attention?: { reason: string; stepId?: string };
  steps: Record<string, { status: string; attempt: number; output?: unknown; error?: { type: string } }>;
}

interface History {
  items: { type: string; stepId?: string; attempt?: number; data?: Record<string, unknown> }[];
}

/**
 * Failures and time across the real services: retries with backoff (scheduler timers), step timeouts with
 * a late result, sagas, operator terminate and retry, signals (kept when early) and event waits.
 */
describe('failures, waits and operator actions', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({
      actions: ['inv.reserve', 'inv.release', 'pay.charge', 'pay.refund', 'ok.step'],
      failActions: ['ship.send'],
      asyncActions: ['human.approve'],
      flaky: { 'flaky.call': 2 },
      hang: { 'slow.call': 4_000 },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const register = async (def: WorkflowDefinition) => {
    const res = await stack.http('orchestrator', 'POST', '/v1/workflows', def);
    if (res.status !== 201) throw new Error(`register ${def.id}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const startExecution = async (workflowId: string, executionId: string, input: unknown = {}) => {
    const res = await stack.http('orchestrator', 'POST', `/v1/workflows/${workflowId}/executions`, {
      executionId,
      input,
    });
    expect(res.status).toBe(202);
  };
  const live = async (id: string): Promise<Live> =>
    (await stack.http<Live>('orchestrator', 'GET', `/v1/executions/${id}`)).body;
  const until = (id: string, ok: (e: Live) => boolean, what: string) =>
    waitFor(
      async () => {
        const e = await live(id);
        return ok(e) ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${id}: ${what}` },
    );
  const history = async (id: string, expectTypes: string[] = []) =>
    waitFor(
      async () => {
        const res = await stack.http<History>('state-store', 'GET', `/v1/executions/${id}/history?limit=500`);
        if (res.status !== 200) return undefined;
        const types = res.body.items.map((e) => e.type);
        return expectTypes.every((t) => types.includes(t)) ? res.body.items : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `history of ${id}` },
    );
  const tokenOf = (action: string, key: string) =>
    waitFor(() => stack.effects().find((e) => e.action === action && e.key === key && e.token)?.token, {
      timeoutMs: 30_000,
      what: `token of ${action} ${key}`,
    });

  it('retries a flaky step with backoff through the scheduler until it succeeds', async () => {
    await register({
      id: 'flaky',
      version: 1,
      steps: [
        {
          id: 'call',
          type: 'task',
          action: 'flaky.call',
          retryPolicy: { maxAttempts: 4, initialIntervalMs: 200, backoffCoefficient: 2, jitter: true },
        },
      ],
    });
    await startExecution('flaky', 'flaky-1');
    const done = await until('flaky-1', (e) => e.status === 'COMPLETED', 'completed');
    expect(done.steps['call']).toMatchObject({ status: 'COMPLETED', attempt: 3 });
    const items = await history('flaky-1', ['ExecutionCompleted']);
    const retries = items.filter((e) => e.type === 'StepRetryScheduled');
    expect(retries.map((e) => e.attempt)).toEqual([1, 2]);
    expect(retries.map((e) => (e.data?.['error'] as { type: string }).type)).toEqual([
      'E2eFlaky',
      'E2eFlaky',
    ]);
    expect(stack.effects().filter((e) => e.key === 'flaky-1:call')).toHaveLength(1);
  });

  it('times out a hung attempt, retries it, and records the late result as stale', async () => {
    await register({
      id: 'slow',
      version: 1,
      steps: [
        {
          id: 'call',
          type: 'task',
          action: 'slow.call',
          timeoutSeconds: 1,
          retryPolicy: { maxAttempts: 2, initialIntervalMs: 100 },
        },
      ],
    });
    await startExecution('slow', 'slow-1');
    const done = await until('slow-1', (e) => e.status === 'COMPLETED', 'completed');
    expect(done.steps['call']?.attempt).toBe(2);
    const items = await history('slow-1', ['StepTimedOut', 'StaleResultIgnored']);
    expect(items.find((e) => e.type === 'StepTimedOut')?.attempt).toBe(1);
    expect(items.find((e) => e.type === 'StaleResultIgnored')?.attempt).toBe(1);
  });

  it('compensates completed steps in reverse order when a step fails for good (saga)', async () => {
    await register({
      id: 'order',
      version: 1,
      steps: [
        { id: 'reserve', type: 'task', action: 'inv.reserve', compensation: { action: 'inv.release' } },
        {
          id: 'charge',
          type: 'task',
          action: 'pay.charge',
          dependencies: ['reserve'],
          compensation: { action: 'pay.refund' },
        },
        { id: 'ship', type: 'task', action: 'ship.send', dependencies: ['charge'] },
      ],
    });
    await startExecution('order', 'order-1');
    const done = await until('order-1', (e) => e.status === 'COMPENSATED', 'compensated');
    expect(done.error).toMatchObject({ type: 'E2eFailure', stepId: 'ship' });
    expect(done.steps['charge']?.status).toBe('COMPENSATED');
    expect(done.steps['reserve']?.status).toBe('COMPENSATED');
    const order = stack
      .effects()
      .filter((e) => e.key.startsWith('order-1:'))
      .map((e) => e.action);
    expect(order).toEqual(['inv.reserve', 'pay.charge', 'pay.refund', 'inv.release']);
    await history('order-1', ['CompensationStarted', 'ExecutionCompensated']);
  });

  it('terminates a running execution and refuses to terminate it twice', async () => {
    await register({
      id: 'approval',
      version: 1,
      steps: [
        { id: 'approve', type: 'task', action: 'human.approve' },
        { id: 'after', type: 'task', action: 'ok.step', dependencies: ['approve'] },
      ],
    });
    await startExecution('approval', 'term-1');
    await tokenOf('human.approve', 'term-1:approve');
    const res = await stack.http<Live>('orchestrator', 'POST', '/v1/executions/term-1/terminate', {
      reason: 'customer cancelled',
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('TERMINATED');
    expect(res.body.steps['after']?.status).toBe('SKIPPED');
    const again = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'POST',
      '/v1/executions/term-1/terminate',
      {},
    );
    expect(again.status).toBe(409);
    const missing = await stack.http('orchestrator', 'POST', '/v1/executions/nope/terminate', {});
    expect(missing.status).toBe(404);
  });

  it('resumes a failed execution from its failed step on retry, keeping completed outputs', async () => {
    await register({
      id: 'resume',
      version: 1,
      steps: [
        { id: 'first', type: 'task', action: 'ok.step', parameters: { value: 7 } },
        { id: 'approve', type: 'task', action: 'human.approve', dependencies: ['first'] },
      ],
    });
    await startExecution('resume', 'resume-1');
    const token = await tokenOf('human.approve', 'resume-1:approve');
    const failed = await stack.http('orchestrator', 'POST', `/v1/tasks/${token}/fail`, {
      error: { type: 'Rejected', message: 'not today', nonRetryable: true },
    });
    expect(failed.status).toBe(202);
    await until('resume-1', (e) => e.status === 'FAILED', 'failed');
    const retried = await stack.http<Live>('orchestrator', 'POST', '/v1/executions/resume-1/retry');
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('RUNNING');
    expect(retried.body.steps['first']).toMatchObject({ status: 'COMPLETED', output: { value: 7 } });
    const second = await waitFor(
      () => stack.effects().find((e) => e.key === 'resume-1:approve' && e.attempt === 2 && e.token)?.token,
      { timeoutMs: 30_000, what: 'second attempt' },
    );
    expect(
      (await stack.http('orchestrator', 'POST', `/v1/tasks/${second}/complete`, { output: {} })).status,
    ).toBe(202);
    await until('resume-1', (e) => e.status === 'COMPLETED', 'completed after retry');
    expect(stack.effects().filter((e) => e.key === 'resume-1:first')).toHaveLength(1);
    expect((await stack.http('orchestrator', 'POST', '/v1/executions/resume-1/retry')).status).toBe(409);
  });

  it('keeps a signal sent before its wait step and completes the wait with it; times waits out', async () => {
    await register({
      id: 'signals',
      version: 1,
      output: '{% $steps.review.output.payload %}',
      steps: [
        { id: 'approve', type: 'task', action: 'human.approve' },
        {
          id: 'review',
          type: 'wait',
          parameters: { signal: 'reviewed', timeoutSeconds: 600 },
          dependencies: ['approve'],
        },
      ],
    });
    await startExecution('signals', 'sig-1');
    const token = await tokenOf('human.approve', 'sig-1:approve');
    const sent = await stack.http<{ signalId: string }>(
      'orchestrator',
      'POST',
      '/v1/executions/sig-1/signals/reviewed',
      {
        payload: { by: 'ana' },
        signalId: 'review-1',
      },
    );
    expect(sent.status).toBe(202);
    // The same signal again is applied once.
    await stack.http('orchestrator', 'POST', '/v1/executions/sig-1/signals/reviewed', {
      payload: { by: 'ana' },
      signalId: 'review-1',
    });
    const bad = await stack.http<{ error: { details: { path: string }[] } }>(
      'orchestrator',
      'POST',
      '/v1/executions/sig-1/signals/reviewed',
      { payload: 1, extra: true },
    );
    expect(bad.status).toBe(422);
    await until('sig-1', (e) => e.steps['approve']?.status === 'SCHEDULED', 'approve scheduled');
    expect(
      (await stack.http('orchestrator', 'POST', `/v1/tasks/${token}/complete`, { output: {} })).status,
    ).toBe(202);
    const done = await until('sig-1', (e) => e.status === 'COMPLETED', 'completed');
    expect(done.output).toEqual({ by: 'ana' });

    await register({
      id: 'patience',
      version: 1,
      steps: [{ id: 'wait', type: 'wait', parameters: { signal: 'never', timeoutSeconds: 1 } }],
    });
    await startExecution('patience', 'pat-1');
    const waiting = await until('pat-1', (e) => e.status === 'WAITING', 'waiting');
    expect(waiting.steps['wait']?.status).toBe('RUNNING');
    const timedOut = await until('pat-1', (e) => e.status === 'FAILED', 'timed out');
    expect(timedOut.steps['wait']?.error?.type).toBe('TIMEOUT');
    expect((await stack.http('orchestrator', 'POST', '/v1/executions/pat-1/signals/never', {})).status).toBe(
      409,
    );
  });

  it('applies error policies: continue past a failure, escalate and park until an operator acts', async () => {
    for (const policy of [
      { name: 'keep-going', errorTypes: ['E2eFailure'], onExhausted: 'continue' },
      { name: 'call-a-human', errorTypes: ['*'], retryPolicy: { maxAttempts: 1 }, onExhausted: 'escalate' },
    ]) {
      const res = await stack.http('orchestrator', 'POST', '/v1/policies', policy);
      expect([200, 201]).toContain(res.status);
    }
    const unknown = await stack.http<{ error: { details: { path: string; rule: string }[] } }>(
      'orchestrator',
      'POST',
      '/v1/workflows',
      {
        id: 'nopolicy',
        version: 1,
        policies: ['missing'],
        steps: [{ id: 'a', type: 'task', action: 'ok.step' }],
      },
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([
      expect.objectContaining({ path: '/policies/0', rule: 'unknownPolicy' }),
    ]);

    await register({
      id: 'lenient',
      version: 1,
      policies: ['keep-going'],
      steps: [
        { id: 'optional', type: 'task', action: 'ship.send' },
        { id: 'after', type: 'task', action: 'ok.step', dependencies: ['optional'] },
      ],
    });
    await startExecution('lenient', 'lenient-1');
    const lenient = await until('lenient-1', (e) => e.status === 'COMPLETED', 'completed past the failure');
    expect(lenient.steps['optional']?.status).toBe('FAILED');
    expect(lenient.steps['after']?.status).toBe('COMPLETED');

    const js = await stack.js();
    const jsm = await js.jetstreamManager();
    const before = (await jsm.streams.info('BATON_ALERTS')).state.messages;
    await register({
      id: 'strict',
      version: 1,
      steps: [{ id: 'ship', type: 'task', action: 'ship.send', policy: 'call-a-human' }],
    });
    await startExecution('strict', 'strict-1');
    const parked = await until(
      'strict-1',
      (e) => e.status === 'WAITING' && e.attention !== undefined,
      'parked',
    );
    expect(parked.attention?.stepId).toBe('ship');
    await waitFor(async () => (await jsm.streams.info('BATON_ALERTS')).state.messages > before, {
      what: 'escalation alert stored',
    });
    const alert = await jsm.streams.getMessage('BATON_ALERTS', { last_by_subj: 'baton.alerts.escalation' });
    expect(alert?.json()).toMatchObject({
      executionId: 'strict-1',
      stepId: 'ship',
      error: { type: 'E2eFailure' },
    });
    const retried = await stack.http<Live>('orchestrator', 'POST', '/v1/executions/strict-1/retry');
    expect(retried.status).toBe(200);
    await until('strict-1', (e) => e.status === 'WAITING' && e.steps['ship']?.attempt === 2, 'parked again');
    const ended = await stack.http<Live>('orchestrator', 'POST', '/v1/executions/strict-1/terminate', {
      reason: 'gave up',
    });
    expect(ended.body.status).toBe('TERMINATED');
  });

  it('waits for a correlated event, then for a delay', async () => {
    await register({
      id: 'payment',
      version: 1,
      steps: [
        {
          id: 'paid',
          type: 'wait',
          parameters: {
            event: 'events.payment.*',
            condition: {
              all: [{ fact: 'event', path: '$.orderId', operator: 'equal', value: '{% $input.orderId %}' }],
            },
            timeoutSeconds: 120,
          },
        },
        { id: 'cool-off', type: 'wait', parameters: { seconds: 1 }, dependencies: ['paid'] },
      ],
    });
    await startExecution('payment', 'pay-1', { orderId: 'o-1' });
    await until('pay-1', (e) => e.status === 'WAITING', 'waiting for the event');
    const js = await stack.js();
    await js.publish('events.payment.settled', JSON.stringify({ orderId: 'o-2', amount: 1 }));
    await js.publish('events.payment.settled', JSON.stringify({ orderId: 'o-1', amount: 5 }));
    const done = await until('pay-1', (e) => e.status === 'COMPLETED', 'completed');
    expect(done.steps['paid']?.output).toMatchObject({
      subject: 'events.payment.settled',
      event: { orderId: 'o-1', amount: 5 },
    });
    await history('pay-1', ['EventMatched', 'WaitStarted', 'ExecutionCompleted']);
  });
});
