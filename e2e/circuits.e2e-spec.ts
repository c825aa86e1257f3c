import { waitFor } from '@baton/testing';

import { Stack } from './support/stack';

interface Live {
  status: string;
  steps: Record<string, { status: string; attempt: number; retryAt?: string }>;
}

interface History {
  items: { type: string; attempt?: number; data?: Record<string, unknown> }[];
}

/**
 * Circuit breaking per action: repeated failures open the action's circuit; the next attempt is held (it
 * waits, it does not fail) until the cool-off ends; the probe succeeds and closes the circuit. The state is
 * in the API and in /metrics.
 */
describe('circuit breaking', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ env: { BATON_CIRCUIT_THRESHOLD: '2', BATON_CIRCUIT_COOL_OFF_MS: '3000' } });
    await stack.startWorker({ actions: [], flaky: { 'cb.call': 2 } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('opens after repeated failures, holds the next attempt through the cool-off, closes on a good probe', async () => {
    const def = {
      id: 'breaker',
      version: 1,
      steps: [
        {
          id: 'call',
          type: 'task',
          action: 'cb.call',
          retryPolicy: { maxAttempts: 3, initialIntervalMs: 50, jitter: false },
        },
      ],
    };
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    expect(
      (await stack.http('orchestrator', 'POST', '/v1/workflows/breaker/executions', { executionId: 'cb-1' }))
        .status,
    ).toBe(202);

    const open = await waitFor(
      async () => {
        const res = await stack.http<{ state: string; opens: number }>(
          'orchestrator',
          'GET',
          '/v1/circuits/cb.call',
        );
        return res.body.state === 'open' ? res.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'circuit of cb.call open' },
    );
    expect(open.opens).toBe(1);
    const metrics = await fetch(`${stack.service('orchestrator').url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/baton_circuit_state\{[^}]*action="cb\.call"[^}]*\} 2/);
    const held = (await stack.http<Live>('orchestrator', 'GET', '/v1/executions/cb-1')).body;
    expect(held.status).toBe('RUNNING');
    expect(held.steps['call']).toMatchObject({ status: 'SCHEDULED', attempt: 2 });

    const done = await waitFor(
      async () => {
        const e = (await stack.http<Live>('orchestrator', 'GET', '/v1/executions/cb-1')).body;
        return e.status === 'COMPLETED' ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'cb-1 completed after the probe' },
    );
    expect(done.steps['call']?.attempt).toBe(3);
    const closed = await stack.http<{ state: string }>('orchestrator', 'GET', '/v1/circuits/cb.call');
    expect(closed.body.state).toBe('closed');
    const history = await waitFor(
      async () => {
        const res = await stack.http<History>('state-store', 'GET', '/v1/executions/cb-1/history?limit=100');
        return res.body.items?.some((e) => e.type === 'ExecutionCompleted') ? res.body.items : undefined;
      },
      { what: 'history of cb-1' },
    );
    expect(history.filter((e) => e.type === 'StepHeld').length).toBeGreaterThanOrEqual(1);
    expect((await stack.http('orchestrator', 'GET', '/v1/circuits/not an action')).status).toBe(400);
  });
});
