/**
 * Metric names and values after a known run: N executions of a 2-step workflow that completes, one of a
 * workflow whose only step fails, and one unparseable result (a dead letter). Every service is scraped at
 * /metrics and the counters must hold exactly what happened.
 */
import { Durables, Streams } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { metricValue } from './support/metrics';
import { Stack } from './support/stack';
import { sequenceWorkflow, waitForTerminal } from './support/workflows';

const N = 4;

describe('metrics after a known run', () => {
  let stack: Stack;
  const scrape = async (name: 'orchestrator' | 'state-store' | 'telemetry') =>
    (await fetch(`${stack.service(name).url}/metrics`)).text();

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({ actions: ['metered.step'], failActions: ['metered.fail'] });
    const ok = sequenceWorkflow('metered', 'events.metered.go', 'metered.step', 2);
    const failing = sequenceWorkflow('metered-fail', 'events.metered.fail', 'metered.fail', 1);
    for (const def of [ok, failing]) {
      expect((await stack.http('orchestrator', 'POST', '/v1/workflows', def)).status).toBe(201);
    }
    const js = await stack.js();
    for (let n = 0; n < N; n++) await js.publish('events.metered.go', JSON.stringify({ id: `m${n}`, n }));
    await js.publish('events.metered.fail', JSON.stringify({ id: 'f', n: 0 }));
    // Not JSON: dead-lettered by the orchestrator's result consumer at once.
    await js.publish('baton.orch.result.poison', 'not json', { msgID: 'poison-1' });
    await waitForTerminal(stack, 'metered', N);
    await waitForTerminal(stack, 'metered-fail', 1);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('counts executions, steps and attempts by workflow and action in the orchestrator', async () => {
    const text = await waitFor(
      async () => {
        const t = await scrape('orchestrator');
        return metricValue(t, 'baton_dead_letters_total', { durable: Durables.ORCHESTRATOR }) === 1
          ? t
          : undefined;
      },
      { what: 'the dead letter counted' },
    );
    const v = (name: string, labels: Record<string, string>) => metricValue(text, name, labels);
    expect(v('baton_executions_started_total', { workflow: 'metered' })).toBe(N);
    expect(v('baton_executions_finished_total', { workflow: 'metered', status: 'completed' })).toBe(N);
    expect(v('baton_execution_duration_seconds_count', { workflow: 'metered', status: 'completed' })).toBe(N);
    expect(v('baton_executions_failed_total', { workflow: 'metered' })).toBeUndefined();
    expect(v('baton_executions_started_total', { workflow: 'metered-fail' })).toBe(1);
    expect(v('baton_executions_failed_total', { workflow: 'metered-fail' })).toBe(1);
    expect(v('baton_executions_finished_total', { workflow: 'metered-fail', status: 'failed' })).toBe(1);
    expect(v('baton_step_duration_seconds_count', { action: 'metered.step', status: 'completed' })).toBe(
      2 * N,
    );
    expect(v('baton_step_duration_seconds_count', { action: 'metered.fail', status: 'failed' })).toBe(1);
    expect(v('baton_step_attempts_count', { action: 'metered.step' })).toBe(2 * N);
    expect(v('baton_step_attempts_bucket', { action: 'metered.step', le: '1' })).toBe(2 * N);
    // Results of N x 2 + 1 tasks acknowledged, one poison message dead-lettered, nothing redelivered.
    expect(v('baton_dead_letters_total', { durable: Durables.ORCHESTRATOR })).toBe(1);
    expect(v('baton_messages_processed_total', { durable: Durables.ORCHESTRATOR, outcome: 'dead' })).toBe(1);
    expect(v('baton_message_redeliveries_total', { durable: Durables.ORCHESTRATOR })).toBeUndefined();
    expect(
      v('baton_consumer_pending_messages', { stream: Streams.ORCH, durable: Durables.ORCHESTRATOR }),
    ).toBe(0);
    expect(
      v('baton_message_processing_seconds_count', { durable: Durables.ORCHESTRATOR, outcome: 'dead' }),
    ).toBe(1);
  });

  it('counts every history batch once in the state-store and the telemetry service', async () => {
    // One history batch per revision of each execution record.
    const executions = await stack.http<{ items: { revision: number }[] }>(
      'state-store',
      'GET',
      '/v1/executions?limit=500',
    );
    const batches = executions.body.items.reduce((sum, e) => sum + e.revision, 0);
    expect(executions.body.items).toHaveLength(N + 1);
    const [store, telemetry] = await waitFor(
      async () => {
        const s = await scrape('state-store');
        const t = await scrape('telemetry');
        const stored = metricValue(s, 'baton_messages_processed_total', {
          durable: Durables.STATE_STORE_HISTORY,
          outcome: 'ack',
        });
        const counted = metricValue(t, 'baton_analytics_batches_total', { outcome: 'counted' });
        return stored === batches && counted === batches ? [s, t] : undefined;
      },
      { what: `${batches} history batches stored and counted` },
    );
    expect(
      metricValue(telemetry, 'baton_messages_processed_total', {
        durable: Durables.TELEMETRY_HISTORY,
        outcome: 'ack',
      }),
    ).toBe(batches);
    expect(metricValue(telemetry, 'baton_analytics_batches_total', { outcome: 'duplicate' })).toBeUndefined();
    for (const [text, durable] of [
      [store, Durables.STATE_STORE_HISTORY],
      [telemetry, Durables.TELEMETRY_HISTORY],
    ] as const) {
      expect(metricValue(text, 'baton_consumer_pending_messages', { stream: Streams.HISTORY, durable })).toBe(
        0,
      );
      expect(metricValue(text, 'baton_dead_letters_total', { durable })).toBeUndefined();
    }
  });
});
