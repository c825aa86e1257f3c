import type { WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { Stack } from './support/stack';

interface Live {
  status: string;
  error?: { type: string; stepId?: string };
  steps: Record<string, { status: string; attempt: number; action?: string; output?: { action?: string } }>;
}

interface History {
  items: { type: string; stepId?: string; data?: Record<string, unknown> }[];
}

/**
 * Dynamic routing of task steps across real workers: failover past a candidate with no live worker and past
 * one that fails after its retries, round-robin, weighted, best-score within a budget, and a budget that
 * runs out (BUDGET_EXCEEDED).
 */
describe('dynamic routing', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({
      actions: ['sms.backup', 'lb.a', 'lb.b', 'w.heavy', 'w.light', 'geo.cheap', 'geo.premium'],
      failActions: ['sms.broken'],
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const register = async (def: WorkflowDefinition) => {
    const res = await stack.http('orchestrator', 'POST', '/v1/workflows', def);
    if (res.status !== 201) throw new Error(`register ${def.id}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const run = async (workflowId: string, executionId: string): Promise<Live> => {
    const res = await stack.http('orchestrator', 'POST', `/v1/workflows/${workflowId}/executions`, {
      executionId,
      input: {},
    });
    expect(res.status).toBe(202);
    return waitFor(
      async () => {
        const e = (await stack.http<Live>('orchestrator', 'GET', `/v1/executions/${executionId}`)).body;
        return ['COMPLETED', 'FAILED', 'COMPENSATED'].includes(e.status) ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${executionId} finished` },
    );
  };
  const actionOf = (e: Live, step: string) => e.steps[step]?.output?.action;

  it('fails over past a candidate without a live worker and past one that fails after its retries', async () => {
    await register({
      id: 'notify',
      version: 1,
      steps: [
        {
          id: 'send',
          type: 'task',
          routing: {
            strategy: 'failover',
            candidates: [{ action: 'sms.down' }, { action: 'sms.broken' }, { action: 'sms.backup' }],
          },
          retryPolicy: { maxAttempts: 2, initialIntervalMs: 50 },
        },
      ],
    });
    // sms.down has no worker at all: it is skipped; sms.broken fails twice; sms.backup completes.
    // Liveness is known once the orchestrator has heard the workers' presence for one heartbeat interval.
    await waitFor(
      async () => {
        const res = await stack.http<{ items: { actions: string[] }[] }>('scheduler', 'GET', '/v1/workers');
        return res.body.items?.some((w) => w.actions.includes('sms.backup')) ? true : undefined;
      },
      { what: 'worker registered' },
    );
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const done = await run('notify', 'notify-1');
    expect(done.status).toBe('COMPLETED');
    expect(actionOf(done, 'send')).toBe('sms.backup');
    const history = await waitFor(
      async () => {
        const res = await stack.http<History>(
          'state-store',
          'GET',
          '/v1/executions/notify-1/history?limit=100',
        );
        return res.body.items?.some((e) => e.type === 'ExecutionCompleted') ? res.body.items : undefined;
      },
      { what: 'history of notify-1' },
    );
    const chosen = history.filter((e) => e.type === 'RouteChosen').map((e) => e.data?.['action']);
    expect(chosen).toEqual(['sms.broken', 'sms.backup']);
    expect(
      stack
        .effects()
        .filter((e) => e.key === 'notify-1:send')
        .map((e) => e.action),
    ).toEqual(['sms.backup']);
  });

  it('balances round-robin and by weight', async () => {
    await register({
      id: 'balanced',
      version: 1,
      steps: [
        {
          id: 's1',
          type: 'task',
          routing: { strategy: 'round-robin', candidates: [{ action: 'lb.a' }, { action: 'lb.b' }] },
        },
        {
          id: 's2',
          type: 'task',
          dependencies: ['s1'],
          routing: { strategy: 'round-robin', candidates: [{ action: 'lb.a' }, { action: 'lb.b' }] },
        },
        {
          id: 'w',
          type: 'task',
          dependencies: ['s2'],
          routing: {
            strategy: 'weighted',
            candidates: [
              { action: 'w.heavy', weight: 9 },
              { action: 'w.light', weight: 1 },
            ],
          },
        },
      ],
    });
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => run('balanced', `bal-${i}`)));
    expect(runs.every((e) => e.status === 'COMPLETED')).toBe(true);
    const rr = runs.flatMap((e) => [actionOf(e, 's1'), actionOf(e, 's2')]);
    const a = rr.filter((x) => x === 'lb.a').length;
    const b = rr.filter((x) => x === 'lb.b').length;
    expect(a + b).toBe(40);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    const heavy = runs.filter((e) => actionOf(e, 'w') === 'w.heavy').length;
    expect(heavy).toBeGreaterThan(runs.length / 2);
  });

  it('picks the best benefit/cost that fits the budget, charges it, and fails with BUDGET_EXCEEDED when it runs out', async () => {
    const routed = (id: string, dependencies: string[] = []) => ({
      id,
      type: 'task' as const,
      dependencies,
      routing: {
        strategy: 'best-score' as const,
        candidates: [
          { action: 'geo.premium', cost: 6, benefit: 12 },
          { action: 'geo.cheap', cost: 3, benefit: 3 },
        ],
      },
    });
    await register({
      id: 'geo',
      version: 1,
      budget: { limit: 10 },
      steps: [routed('g1'), routed('g2', ['g1']), routed('g3', ['g2'])],
    });
    const done = await run('geo', 'geo-1');
    // 10 to spend: premium (6, score 2) first, then only cheap (3) fits, then nothing fits.
    expect(actionOf(done, 'g1')).toBe('geo.premium');
    expect(actionOf(done, 'g2')).toBe('geo.cheap');
    expect(done.status).toBe('FAILED');
    expect(done.error).toMatchObject({ type: 'BUDGET_EXCEEDED', stepId: 'g3' });
    const history = await waitFor(
      async () => {
        const res = await stack.http<History>('state-store', 'GET', '/v1/executions/geo-1/history?limit=100');
        return res.body.items?.some((e) => e.type === 'ExecutionFailed') ? res.body.items : undefined;
      },
      { what: 'history of geo-1' },
    );
    expect(history.filter((e) => e.type === 'BudgetCharged').map((e) => e.data?.['spent'])).toEqual([6, 9]);
  });
});
