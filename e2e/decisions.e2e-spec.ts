import type { WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { Stack } from './support/stack';
import { listExecutions, waitForTerminal } from './support/workflows';

interface Live {
  status: string;
  output?: unknown;
  steps: Record<
    string,
    {
      status: string;
      output?: { outcome?: string; rules?: { id: string; version: number }[]; evaluated?: number };
    }
  >;
}

/**
 * Decision steps by choreography: the orchestrator publishes a decision request, the rule-engine evaluates
 * the category's rules and answers, the orchestrator follows the branch and skips the others; a join:any
 * step merges the branches.
 */
describe('decision steps', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({ actions: ['pay.charge', 'pay.review', 'pay.refuse', 'pay.notify'] });
    const rules = [
      {
        id: 'big-orders',
        name: 'Big orders are reviewed',
        category: 'fraud-policy',
        priority: 10,
        enabled: true,
        condition: { all: [{ fact: 'total', operator: 'greaterThan', value: 1000 }] },
        actions: [{ type: 'review' }],
      },
      {
        id: 'blocked-countries',
        name: 'Orders from blocked countries are refused',
        category: 'fraud-policy',
        priority: 20,
        enabled: true,
        condition: { all: [{ fact: 'country', operator: 'in', value: ['XX', 'YY'] }] },
        actions: [{ type: 'reject' }],
      },
    ];
    for (const rule of rules) {
      const created = await stack.http('rule-engine', 'POST', '/v1/rules', rule);
      expect(created.status).toBe(201);
    }
    const def: WorkflowDefinition = {
      id: 'checkout',
      version: 1,
      output: '{% { "decision": $steps.fraud.output.outcome, "notified": $steps.notify.status } %}',
      steps: [
        {
          id: 'fraud',
          type: 'decision',
          action: 'fraud-policy',
          parameters: { total: '{% $input.total %}', country: '{% $input.country %}' },
        },
        { id: 'charge', type: 'task', action: 'pay.charge', dependencies: ['fraud'] },
        { id: 'review', type: 'task', action: 'pay.review', dependencies: ['fraud'] },
        { id: 'refuse', type: 'task', action: 'pay.refuse', dependencies: ['fraud'] },
        {
          id: 'notify',
          type: 'task',
          action: 'pay.notify',
          dependencies: ['charge', 'review', 'refuse'],
          join: 'any',
        },
      ],
    };
    def.steps[0] = {
      ...def.steps[0],
      branches: { approve: ['charge'], review: ['review'], reject: ['refuse'], default: ['charge'] },
    } as WorkflowDefinition['steps'][number];
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const run = async (executionId: string, input: unknown): Promise<Live> => {
    const started = await stack.http('orchestrator', 'POST', '/v1/workflows/checkout/executions', {
      executionId,
      input,
    });
    expect(started.status).toBe(202);
    return waitFor(
      async () => {
        const res = await stack.http<Live>('orchestrator', 'GET', `/v1/executions/${executionId}`);
        return res.body.status === 'COMPLETED' || res.body.status === 'FAILED' ? res.body : undefined;
      },
      { what: `${executionId} finished` },
    );
  };

  it('follows each of three branches and merges them, skipping the branches not taken', async () => {
    const small = await run('d-default', { total: 20, country: 'PT' });
    expect(small.status).toBe('COMPLETED');
    expect(small.steps['fraud']?.output?.outcome).toBe('default');
    // No rule fired: none is listed, and both were evaluated.
    expect(small.steps['fraud']?.output).toMatchObject({ rules: [], evaluated: 2 });
    expect(small.steps['charge']?.status).toBe('COMPLETED');
    expect(small.steps['review']?.status).toBe('SKIPPED');
    expect(small.steps['refuse']?.status).toBe('SKIPPED');
    expect(small.steps['notify']?.status).toBe('COMPLETED');
    expect(small.output).toEqual({ decision: 'default', notified: 'COMPLETED' });

    const big = await run('d-review', { total: 5000, country: 'PT' });
    expect(big.steps['fraud']?.output?.outcome).toBe('review');
    expect(big.steps['fraud']?.output?.rules?.map((r) => r.id)).toEqual(['big-orders']);
    expect(big.steps['review']?.status).toBe('COMPLETED');
    expect(big.steps['charge']?.status).toBe('SKIPPED');
    expect(big.steps['notify']?.status).toBe('COMPLETED');

    // Both rules hold; the higher priority one decides.
    const blocked = await run('d-reject', { total: 5000, country: 'XX' });
    expect(blocked.steps['fraud']?.output?.outcome).toBe('reject');
    expect(blocked.steps['refuse']?.status).toBe('COMPLETED');
    expect(blocked.steps['review']?.status).toBe('SKIPPED');
    expect(blocked.steps['charge']?.status).toBe('SKIPPED');
    expect(blocked.steps['fraud']?.output?.rules?.map((r) => [r.id, r.version])).toEqual([
      ['blocked-countries', 1],
      ['big-orders', 1],
    ]);

    const history = await waitFor(
      async () => {
        const res = await stack.http<{ items: { type: string; stepId?: string }[] }>(
          'state-store',
          'GET',
          '/v1/executions/d-reject/history?limit=500',
        );
        const items = res.body.items ?? [];
        return items.some((e) => e.type === 'ExecutionCompleted') ? items : undefined;
      },
      { what: 'd-reject history' },
    );
    const skipped = history.filter((e) => e.type === 'StepSkipped').map((e) => e.stepId);
    expect(new Set(skipped)).toEqual(new Set(['charge', 'review']));
  });

  it('keeps a running execution on the rules of its start; `rules: latest` follows the change', async () => {
    const created = await stack.http('rule-engine', 'POST', '/v1/rules', {
      id: 'pin-rule',
      name: 'Pinned rule',
      category: 'pin-policy',
      priority: 1,
      condition: { all: [{ fact: 'total', operator: 'greaterThan', value: 0 }] },
      actions: [{ type: 'approve' }],
    });
    expect(created.status).toBe(201);
    const flow = (id: string, rules?: 'latest'): WorkflowDefinition =>
      ({
        id,
        version: 1,
        ...(rules ? { rules } : {}),
        steps: [
          { id: 'hold', type: 'wait', parameters: { signal: 'go', timeoutSeconds: 600 } },
          {
            id: 'decide',
            type: 'decision',
            action: 'pin-policy',
            parameters: { total: '{% $input.total %}' },
            dependencies: ['hold'],
            branches: { approve: ['charge'], reject: ['refuse'], default: ['charge'] },
          },
          { id: 'charge', type: 'task', action: 'pay.charge', dependencies: ['decide'] },
          { id: 'refuse', type: 'task', action: 'pay.refuse', dependencies: ['decide'] },
        ],
      }) as WorkflowDefinition;
    for (const def of [flow('pinned-flow'), flow('latest-flow', 'latest')]) {
      expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    }
    for (const [workflow, id] of [
      ['pinned-flow', 'pin-old'],
      ['latest-flow', 'pin-latest'],
    ]) {
      const started = await stack.http('orchestrator', 'POST', `/v1/workflows/${workflow}/executions`, {
        executionId: id,
        input: { total: 10 },
      });
      expect(started.status).toBe(202);
      await waitFor(
        async () => {
          const res = await stack.http<Live>('orchestrator', 'GET', `/v1/executions/${id}`);
          return res.body.steps?.['hold']?.status === 'RUNNING' || res.body.status === 'WAITING'
            ? true
            : undefined;
        },
        { what: `${id} waiting for its signal` },
      );
    }
    // The rule changes while both executions wait.
    const changed = await stack.http('rule-engine', 'PUT', '/v1/rules/pin-rule', {
      id: 'pin-rule',
      name: 'Pinned rule',
      category: 'pin-policy',
      priority: 1,
      condition: { all: [{ fact: 'total', operator: 'greaterThan', value: 0 }] },
      actions: [{ type: 'reject' }],
    });
    expect(changed.status).toBe(200);
    const finished = async (id: string): Promise<Live> => {
      expect((await stack.http('orchestrator', 'POST', `/v1/executions/${id}/signals/go`, {})).status).toBe(
        202,
      );
      return waitFor(
        async () => {
          const res = await stack.http<Live>('orchestrator', 'GET', `/v1/executions/${id}`);
          return res.body.status === 'COMPLETED' || res.body.status === 'FAILED' ? res.body : undefined;
        },
        { what: `${id} finished` },
      );
    };
    const pinned = await finished('pin-old');
    expect(pinned.steps['decide']?.output).toMatchObject({
      outcome: 'approve',
      rules: [{ id: 'pin-rule', version: 1 }],
      rulesAsOf: expect.any(String),
    });
    expect(pinned.steps['charge']?.status).toBe('COMPLETED');
    expect(pinned.steps['refuse']?.status).toBe('SKIPPED');

    const latest = await finished('pin-latest');
    expect(latest.steps['decide']?.output).toMatchObject({
      outcome: 'reject',
      rules: [{ id: 'pin-rule', version: 2 }],
    });
    expect(latest.steps['decide']?.output).not.toHaveProperty('rulesAsOf');
    expect(latest.steps['refuse']?.status).toBe('COMPLETED');

    // An execution started after the change is pinned to the new version.
    const started = await stack.http('orchestrator', 'POST', '/v1/workflows/pinned-flow/executions', {
      executionId: 'pin-new',
      input: { total: 10 },
    });
    expect(started.status).toBe(202);
    await waitFor(
      async () => {
        const res = await stack.http<Live>('orchestrator', 'GET', '/v1/executions/pin-new');
        return res.body.steps?.['hold']?.status === 'RUNNING' || res.body.status === 'WAITING'
          ? true
          : undefined;
      },
      { what: 'pin-new waiting for its signal' },
    );
    const fresh = await finished('pin-new');
    expect(fresh.steps['decide']?.output).toMatchObject({
      outcome: 'reject',
      rules: [{ id: 'pin-rule', version: 2 }],
    });
  });

  it('starts a workflow from an event only when its trigger condition holds', async () => {
    const def: WorkflowDefinition = {
      id: 'big-orders',
      version: 1,
      triggers: [
        {
          type: 'event',
          subject: 'events.order.placed',
          condition: {
            all: [
              { fact: 'event', path: '$.total', operator: 'greaterThan', value: 100 },
              { not: { fact: 'event', path: '$.country', operator: 'in', value: ['XX', 'YY'] } },
              { fact: 'subject', operator: 'matches', value: '^events\\.order\\.' },
            ],
          },
          input: "{% { 'orderId': $event.id, 'total': $event.total } %}",
          key: '{% $event.id %}',
        },
      ],
      steps: [
        { id: 'charge', type: 'task', action: 'pay.charge', parameters: { orderId: '{% $input.orderId %}' } },
      ],
    };
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    const js = await stack.js();
    await js.publish('events.order.placed', JSON.stringify({ id: 'small', total: 50, country: 'PT' }));
    await js.publish('events.order.placed', JSON.stringify({ id: 'blocked', total: 500, country: 'XX' }));
    await js.publish('events.order.placed', JSON.stringify({ id: 'big', total: 500, country: 'PT' }));
    await js.publish('events.order.placed', JSON.stringify({ id: 'no-total', country: 'PT' }));

    const [started] = await waitForTerminal(stack, 'big-orders', 1);
    expect(started).toMatchObject({ status: 'COMPLETED' });
    // The three events whose condition does not hold were taken and started nothing.
    let metrics = '';
    await waitFor(
      async () => {
        const res = await stack.http<string>('orchestrator', 'GET', '/metrics');
        metrics = res.body;
        return /baton_trigger_condition_skipped_total\{workflow="big-orders"[^}]*\} 3\b/.test(res.body)
          ? true
          : undefined;
      },
      { what: 'three events skipped by the trigger condition' },
    ).catch((err: Error) => {
      const lines = metrics.split('\n').filter((l) => l.includes('trigger_condition'));
      throw new Error(`${err.message}; metrics: ${lines.join(' | ') || '(none)'}`);
    });
    const all = await listExecutions(stack, 'big-orders');
    expect(all).toHaveLength(1);
    const live = await stack.http<{ input: unknown }>(
      'orchestrator',
      'GET',
      `/v1/executions/${all[0]!.executionId}`,
    );
    expect(live.body.input).toEqual({ orderId: 'big', total: 500 });

    const bad = await stack.http<{ error: { details: { path: string; rule: string }[] } }>(
      'orchestrator',
      'POST',
      '/v1/workflows',
      {
        ...def,
        id: 'bad-condition',
        triggers: [
          {
            type: 'event',
            subject: 'events.order.placed',
            condition: { all: [{ fact: 'event', path: '$.total', operator: 'biggerThan', value: 1 }] },
          },
        ],
      },
    );
    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/triggers/0/condition/all/0/operator', rule: 'unknownOperator' }),
      ]),
    );
  });

  it('refuses a decision whose category is not a single token', async () => {
    const res = await stack.http<{ error: { details: { path: string; rule: string }[] } }>(
      'orchestrator',
      'POST',
      '/v1/workflows',
      {
        id: 'bad-decision',
        version: 1,
        steps: [
          { id: 'd', type: 'decision', action: 'fraud.policy', branches: { default: ['x'] } },
          { id: 'x', type: 'task', action: 'a.b', dependencies: ['d'] },
        ],
      },
    );
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: 'ruleCategory' })]),
    );
  });
});
