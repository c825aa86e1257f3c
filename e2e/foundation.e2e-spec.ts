import { headers as natsHeaders } from '@nats-io/nats-core';

import { waitFor } from '@baton/testing';

import { metricValue } from './support/metrics';
import { Stack } from './support/stack';
import { duplicatedEffects, fanOutWorkflow, listExecutions, waitForTerminal } from './support/workflows';

interface HistoryItem {
  seq: number;
  type: string;
  stepId?: string;
}

describe('foundation: events start workflows that run through workers to completion', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({ actions: ['e2e.split', 'e2e.part', 'e2e.join', 'e2e.final', 'load.step'] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('(a) an event triggers a 6-step DAG with a fan-out of 3 and a join; output and ordered history', async () => {
    const def = fanOutWorkflow('fan-three', 'events.fan.started');
    const registered = await stack.http('orchestrator', 'POST', '/v1/workflows', def);
    expect(registered.status).toBe(201);

    const js = await stack.js();
    await js.publish('events.fan.started', JSON.stringify({ id: 'order-1', value: 7 }));

    const [execution] = await waitForTerminal(stack, 'fan-three', 1);
    expect(execution?.status).toBe('COMPLETED');
    const live = await stack.http<{
      status: string;
      output: unknown;
      steps: Record<string, { status: string }>;
    }>('orchestrator', 'GET', `/v1/executions/${execution?.executionId}`);
    expect(live.status).toBe(200);
    expect(live.body.output).toEqual({
      orderId: 'order-1',
      parts: [`${execution?.executionId}:a`, `${execution?.executionId}:b`, `${execution?.executionId}:c`],
      final: 'e2e.final',
    });
    expect(Object.values(live.body.steps).every((s) => s.status === 'COMPLETED')).toBe(true);

    const history = await waitFor(
      async () => {
        const res = await stack.http<{ items: HistoryItem[] }>(
          'state-store',
          'GET',
          `/v1/executions/${execution?.executionId}/history?limit=500`,
        );
        const items = res.body.items ?? [];
        return items.some((e) => e.type === 'ExecutionCompleted') ? items : undefined;
      },
      { what: 'complete history' },
    );
    expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history[0]?.type).toBe('ExecutionStarted');
    expect(history[history.length - 1]?.type).toBe('ExecutionCompleted');
    const completedOrder = history.filter((e) => e.type === 'StepCompleted').map((e) => e.stepId);
    expect(completedOrder[0]).toBe('split');
    expect(new Set(completedOrder.slice(1, 4))).toEqual(new Set(['a', 'b', 'c']));
    expect(completedOrder.slice(4)).toEqual(['join', 'final']);
    const joinScheduled = history.findIndex((e) => e.type === 'StepScheduled' && e.stepId === 'join');
    const lastBranchDone = Math.max(
      ...['a', 'b', 'c'].map((id) => history.findIndex((e) => e.type === 'StepCompleted' && e.stepId === id)),
    );
    expect(joinScheduled).toBeGreaterThan(lastBranchDone);
  });

  it('(b) 300 executions triggered by events at once all complete, each effect applied once', async () => {
    const def = fanOutWorkflow('fan-load', 'events.load.started', 'load');
    def.steps = def.steps.map((s) => ({ ...s, action: 'load.step' }));
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    const before = stack.effects().length;

    const js = await stack.js();
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        js.publish('events.load.started', JSON.stringify({ id: `load-${i}`, value: i }), {
          msgID: `load-${i}`,
        }),
      ),
    );
    const done = await waitForTerminal(stack, 'fan-load', 300);
    expect(await notCompleted(stack, done)).toEqual([]);
    expect(new Set(done.map((e) => e.executionId)).size).toBe(300);

    const effects = stack.effects().slice(before);
    expect(effects.filter((e) => e.action === 'load.step')).toHaveLength(300 * 6);
    expect(duplicatedEffects(effects)).toEqual([]);
  });

  it('(d) the same event re-published with the same Nats-Msg-Id starts nothing new', async () => {
    const def = fanOutWorkflow('dedupe-flow', 'events.dedupe.started');
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    const js = await stack.js();
    const body = JSON.stringify({ id: 'same', value: 1 });
    const first = await js.publish('events.dedupe.started', body, { msgID: 'dedupe-1' });
    const second = await js.publish('events.dedupe.started', body, { msgID: 'dedupe-1' });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    await waitForTerminal(stack, 'dedupe-flow', 1);

    // A marker event published after the duplicate proves the trigger consumer went past it.
    const marker = await js.publish('events.dedupe.started', JSON.stringify({ id: 'marker', value: 2 }), {
      msgID: 'dedupe-2',
    });
    expect(marker.duplicate).toBe(false);
    const all = await waitForTerminal(stack, 'dedupe-flow', 2);
    expect(all).toHaveLength(2);
  });

  it('(e) bad definitions get a 422 listing every problem; malformed events are dead-lettered; running executions are undisturbed', async () => {
    const def = fanOutWorkflow('steady', 'events.steady.started');
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    const js = await stack.js();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        js.publish('events.steady.started', JSON.stringify({ id: `s-${i}`, value: i }), {
          msgID: `steady-${i}`,
        }),
      ),
    );

    const bad = await stack.http<{ error: { code: string; details: { path: string; rule?: string }[] } }>(
      'orchestrator',
      'POST',
      '/v1/workflows',
      {
        id: 'Bad Id',
        version: 0,
        triggers: [{ type: 'event', subject: 'orders.created' }],
        steps: [
          { id: 'a', type: 'task', action: 'x.y', dependencies: ['b'] },
          { id: 'b', type: 'task', action: 'x.y', dependencies: ['a'] },
          { id: 'b', type: 'task', action: 'x.y', parameters: { v: '{% $input. %}' } },
          { id: 'c', type: 'task', dependencies: ['nope'] },
        ],
      },
    );
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const paths = bad.body.error.details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['/id', '/version', '/triggers/0/subject']));
    expect(bad.body.error.details.length).toBeGreaterThanOrEqual(5);

    const yamlBad = await stack.http(
      'orchestrator',
      'POST',
      '/v1/workflows',
      'id: [unclosed',
      'application/yaml',
    );
    expect(yamlBad.status).toBe(400);

    const changed = { ...def, name: 'changed' };
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(200);
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', changed)).status).toBe(409);

    const tooDeep = JSON.stringify(Array.from({ length: 100 }).reduce<unknown>((acc) => ({ n: acc }), 1));
    const hdrs = natsHeaders();
    hdrs.set('Nats-Msg-Id', 'malformed-1');
    await js.publish('events.steady.started', '{"not json', { headers: hdrs });
    await js.publish('events.steady.started', tooDeep, { msgID: 'too-deep-1' });

    const deadLetters = await waitFor(
      async () => {
        const res = await stack.http<{ items: { subject: string; errorCode: string; consumer: string }[] }>(
          'state-store',
          'GET',
          '/v1/dead-letters',
        );
        const items = (res.body.items ?? []).filter((d) => d.subject === 'events.steady.started');
        return items.length >= 2 ? items : undefined;
      },
      { what: 'two dead letters' },
    );
    expect(deadLetters.every((d) => d.consumer === 'orchestrator-triggers')).toBe(true);
    expect(deadLetters.map((d) => d.errorCode).sort()).toEqual(['BAD_REQUEST', 'VALIDATION_FAILED']);

    const steady = await waitForTerminal(stack, 'steady', 20);
    expect(await notCompleted(stack, steady)).toEqual([]);
    expect(await listExecutions(stack, 'steady')).toHaveLength(20);

    const missing = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'GET',
      '/v1/executions/nope',
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const badStart = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'POST',
      '/v1/workflows/steady/executions',
      {
        executionId: 'has a space',
      },
    );
    expect(badStart.status).toBe(422);
  });

  it('counts executions, steps and consumer lag in /metrics after a known run', async () => {
    const res = await fetch(`${stack.service('orchestrator').url}/metrics`);
    const text = await res.text();
    // 'dedupe-flow' ran exactly two executions (test d); 'steady' twenty (test e).
    expect(metricValue(text, 'baton_executions_started_total', { workflow: 'dedupe-flow' })).toBe(2);
    expect(
      metricValue(text, 'baton_executions_finished_total', { workflow: 'dedupe-flow', status: 'completed' }),
    ).toBe(2);
    expect(metricValue(text, 'baton_executions_started_total', { workflow: 'steady' })).toBe(20);
    expect(
      metricValue(text, 'baton_executions_finished_total', { workflow: 'steady', status: 'completed' }),
    ).toBe(20);
    expect(
      metricValue(text, 'baton_execution_duration_seconds_count', {
        workflow: 'steady',
        status: 'completed',
      }),
    ).toBe(20);
    // fan-load: 300 executions x 6 load.step steps, each finished once on its first attempt.
    expect(
      metricValue(text, 'baton_step_duration_seconds_count', { action: 'load.step', status: 'completed' }),
    ).toBe(1800);
    expect(metricValue(text, 'baton_step_attempts_bucket', { action: 'load.step', le: '1' })).toBe(1800);
    expect(
      metricValue(text, 'baton_consumer_pending_messages', { stream: 'BATON_ORCH', durable: 'orchestrator' }),
    ).toBe(0);
    expect(
      metricValue(text, 'baton_messages_processed_total', {
        durable: 'orchestrator-triggers',
        outcome: 'dead',
      }),
    ).toBe(2);
    expect(metricValue(text, 'baton_executions_failed_total', { workflow: 'steady' })).toBeUndefined();
  });

  it('starts executions over HTTP idempotently by executionId', async () => {
    const first = await stack.http<{ executionId: string; created: boolean }>(
      'orchestrator',
      'POST',
      '/v1/workflows/fan-three/executions',
      { executionId: 'http-1', input: { orderId: 'h', value: 1 } },
    );
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ executionId: 'http-1', created: true });
    const again = await stack.http<{ executionId: string; created: boolean }>(
      'orchestrator',
      'POST',
      '/v1/workflows/fan-three/executions',
      { executionId: 'http-1', input: { orderId: 'other', value: 2 } },
    );
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ executionId: 'http-1', created: false });
    const done = await waitFor(
      async () => {
        const res = await stack.http<{ status: string }>('orchestrator', 'GET', '/v1/executions/http-1');
        return res.body.status === 'COMPLETED' ? res.body : undefined;
      },
      { what: 'http-1 completed' },
    );
    expect(done.status).toBe('COMPLETED');
  });
});

/** The executions that did not complete, with their live state's error (so a failure says why). */
async function notCompleted(
  stack: Stack,
  executions: { executionId: string; status: string }[],
): Promise<{ executionId: string; status: string; error?: unknown }[]> {
  const out: { executionId: string; status: string; error?: unknown }[] = [];
  for (const e of executions.filter((x) => x.status !== 'COMPLETED')) {
    const live = await stack.http<{ error?: unknown }>(
      'orchestrator',
      'GET',
      `/v1/executions/${e.executionId}`,
    );
    out.push({ executionId: e.executionId, status: e.status, error: live.body.error });
  }
  return out;
}
