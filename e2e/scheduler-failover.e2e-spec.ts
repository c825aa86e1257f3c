import { AckPolicy, DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';

import { type ScheduleView, Streams, scheduleExecutionId } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { Stack } from './support/stack';
import type { ServiceHandle } from './support/stack';
import { listExecutions } from './support/workflows';

const TIMERS = 1_000;
const TIMER_SUBJECT = 'events.failover.timer';
const WORKFLOW = 'failover-cron';
const SCHEDULE = 'failover-every-second';

async function post(
  handle: ServiceHandle,
  route: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${handle.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

/**
 * Two scheduler instances share 1,000 pending timers (due over the next ~15 s) and a seconds-level cron
 * schedule; one is SIGKILLed mid-way. Every timer is stored in `EVENTS` exactly once (by `timer:<id>`, none
 * lost), every published start command became an execution, and every cron fire time started at most
 * one execution.
 */
describe('scheduler failover: two instances, one SIGKILLed', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({
      services: ['state-store', 'orchestrator', 'scheduler'],
      env: {
        BATON_TIMER_POLL_INTERVAL_MS: '200',
        BATON_SCHEDULE_POLL_INTERVAL_MS: '200',
        // A take-over is a gap of at most a poll interval or two; a starved CI machine may stretch it.
        BATON_SCHEDULE_MISFIRE_GRACE_MS: '30000',
      },
    });
    await stack.startInstance('scheduler');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('every timer fires exactly once and every fire time starts one execution', async () => {
    const first = stack.service('scheduler');
    const second = stack.instances[0];
    const nc = await stack.connection();

    // Core NATS sees every publish, re-publishes included (the stream keeps one per Nats-Msg-Id).
    const published = new Map<string, number>();
    const sub = nc.subscribe(`${TIMER_SUBJECT}.>`, {
      callback: (_err, msg) => {
        const id = msg.headers?.get('Nats-Msg-Id') ?? '';
        published.set(id, (published.get(id) ?? 0) + 1);
      },
    });
    const starts = new Map<string, number>();
    const startSub = nc.subscribe(`baton.orch.start.${WORKFLOW}`, {
      callback: (_err, msg) => {
        const id = msg.headers?.get('Nats-Msg-Id') ?? '';
        starts.set(id, (starts.get(id) ?? 0) + 1);
      },
    });

    const workflow = {
      id: WORKFLOW,
      version: 1,
      steps: [{ id: 'tick', type: 'emit', parameters: { subject: 'events.failover.tick', payload: {} } }],
    };
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', workflow)).status).toBe(201);
    const created = await post(first, '/v1/schedules', {
      id: SCHEDULE,
      workflowId: WORKFLOW,
      expression: '* * * * * *',
      overlap: 'allow',
    });
    expect(created.status).toBe(201);
    const firstFire = new Date((created.body as ScheduleView).nextFireAt ?? '');

    // 1,000 timers due 5-20 s from now, created half through each instance.
    const base = Date.now() + 5_000;
    for (let i = 0; i < TIMERS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const n = i + j;
          const res = await post(n % 2 === 0 ? first : second, '/v1/timers', {
            id: `fo-${n}`,
            at: new Date(base + Math.floor((n * 15_000) / TIMERS)).toISOString(),
            subject: `${TIMER_SUBJECT}.${n % 10}`,
            payload: { n },
          });
          if (res.status !== 201) throw new Error(`timer ${n}: ${res.status} ${JSON.stringify(res.body)}`);
        }),
      );
    }

    // Mid-way: a third of the timers fired, then the first instance dies without a word.
    await waitFor(() => (published.size >= TIMERS / 3 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: 'a third of the timers fired',
    });
    const killedAt = Date.now();
    await stack.killService('scheduler');
    expect(first.running).toBe(false);

    // Every timer is stored once in EVENTS, none lost.
    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        const info = await jsm.streams.info(Streams.EVENTS, { subjects_filter: `${TIMER_SUBJECT}.>` });
        const stored = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
        return stored >= TIMERS ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: `${TIMERS} timers stored in EVENTS` },
    );
    const js = await stack.js();
    const ci = await jsm.consumers.add(Streams.EVENTS, {
      filter_subject: `${TIMER_SUBJECT}.>`,
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.None,
      inactive_threshold: 30_000_000_000,
    });
    const consumer = await js.consumers.get(Streams.EVENTS, ci.name);
    const stored = new Map<string, number>();
    let total = 0;
    const messages = await consumer.consume();
    for await (const m of messages) {
      const id = m.headers?.get('Nats-Msg-Id') ?? '';
      stored.set(id, (stored.get(id) ?? 0) + 1);
      total++;
      if (m.info.pending === 0 && total >= TIMERS) break;
    }
    await messages.close();
    await consumer.delete();
    const expected = Array.from({ length: TIMERS }, (_, n) => `timer:fo-${n}`);
    expect([...stored.keys()].sort()).toEqual([...expected].sort());
    expect([...stored.values()].filter((c) => c !== 1)).toEqual([]);
    // Re-publishes (at-least-once around the kill) are bounded by one claim batch.
    const republished = [...published.values()].filter((c) => c > 1).length;
    expect(republished).toBeLessThanOrEqual(256);

    // The surviving instance keeps the schedule going: wait for fires well after the kill.
    const after = await waitFor(
      async () => {
        const res = await fetch(`${second.url}/v1/schedules/${SCHEDULE}`);
        const view = (await res.json()) as ScheduleView;
        return view.lastFireAt !== null && Date.parse(view.lastFireAt) >= killedAt + 3_000 ? view : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'schedule firing on the surviving instance' },
    );
    await fetch(`${second.url}/v1/schedules/${SCHEDULE}/pause`, { method: 'POST' });
    const lastFire = Date.parse(after.lastFireAt ?? '');

    // Fire time -> execution id is one-to-one (derived from schedule id and fire time), so an execution per
    // fire time is exactly one. Every execution is for a fire time of the window, and none is left out.
    const byId = new Map<string, number>();
    for (let t = firstFire.getTime(); t <= lastFire; t += 1_000)
      byId.set(scheduleExecutionId(SCHEDULE, new Date(t)), t);
    const executions = await waitFor(
      async () => {
        const all = await listExecutions(stack, WORKFLOW);
        const ids = new Set(all.map((e) => e.executionId));
        const fired = [...starts.keys()].map((k) => k.replace(/^start:/, ''));
        return fired.every((id) => ids.has(id)) ? all : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every published start recorded' },
    );
    const ids = executions.map((e) => e.executionId);
    expect(new Set(ids).size).toBe(ids.length);
    const unknown = ids.filter((id) => !byId.has(id));
    expect(unknown).toEqual([]);
    const missing = [...byId.entries()]
      .filter(([id]) => !ids.includes(id))
      .map(([, t]) => new Date(t).toISOString());
    // The surviving instance takes over within the misfire grace: every fire time of the window, the
    // kill's included, started its execution, once.
    expect(missing).toEqual([]);

    sub.unsubscribe();
    startSub.unsubscribe();
  });
});
