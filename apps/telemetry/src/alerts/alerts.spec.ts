import type { WorkflowAnalytics } from '@baton/persistence';

import { AlertBook, type AlertTransition, RECENT_ALERTS } from './alert-evaluator';
import { type AlertRule, DEFAULT_ALERT_RULES, alertRulesEnv } from './alert-rules';
import { type ConsumerPending, type ExecutionLister, observeStuck } from './alert-sources';
import { type AlertSources, evaluateRules } from './alerts.service';

/** A clock the test moves. */
function clock(start = '2026-06-01T12:00:00.000Z') {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

function workflow(workflowId: string, completed: number, failed: number): WorkflowAnalytics {
  return {
    workflowId,
    window: '5m',
    from: '2026-06-01T11:55:00.000Z',
    started: completed + failed,
    completed,
    failed,
    compensated: 0,
    terminated: 0,
    finished: completed + failed,
    successRate: completed + failed === 0 ? null : completed / (completed + failed),
    durationMs: { p50: null, p95: null, p99: null },
  };
}

const errorRate: AlertRule = {
  name: 'orders-failing',
  kind: 'error-rate',
  window: '5m',
  threshold: 0.2,
  minExecutions: 10,
};
const lag: AlertRule = { name: 'lagging', kind: 'consumer-lag', maxPending: 100 };
const stuck: AlertRule = { name: 'stuck', kind: 'stuck-executions', afterSeconds: 600, minCount: 1 };

/** Sources whose data the test sets, recording what is published. */
function fakeSources(now: () => Date) {
  const state = {
    workflows: [] as WorkflowAnalytics[],
    consumers: [] as ConsumerPending[],
    executions: [] as { executionId: string; workflowId: string; status: string; updatedAt: string }[],
    published: [] as { subject: string; state: string; key: string; msgId: string }[],
    failPublish: false,
    failAnalytics: false,
  };
  const executions: ExecutionLister = async (q) => ({
    items: state.executions.filter((e) => e.status === q.status),
    nextCursor: null,
  });
  const sources: AlertSources = {
    analytics: {
      listWorkflows: async (_w, at) => {
        expect(at).toEqual(now());
        if (state.failAnalytics) throw new Error('database down');
        return state.workflows;
      },
    },
    executions,
    consumers: async () => state.consumers,
    publish: async (subject, alert, msgId) => {
      if (state.failPublish) throw new Error('no responders');
      state.published.push({ subject, state: alert.state, key: alert.key, msgId });
    },
  };
  return { state, sources };
}

describe('alert rules configuration', () => {
  const parse = (raw: string | undefined) => alertRulesEnv.safeParse(raw);

  it('uses the default rules when unset and none for []', () => {
    expect(parse(undefined)).toEqual({ success: true, data: DEFAULT_ALERT_RULES });
    expect(parse('[]')).toEqual({ success: true, data: [] });
  });

  it('fills defaults of a rule', () => {
    const out = parse(JSON.stringify([{ name: 'wf', kind: 'error-rate', threshold: 0.5 }]));
    expect(out.success && out.data).toEqual([
      { name: 'wf', kind: 'error-rate', threshold: 0.5, window: '5m', minExecutions: 10 },
    ]);
  });

  it.each([
    ['not json', 'is not JSON'],
    [JSON.stringify([{ name: 'x', kind: 'error-rate', threshold: 2 }]), '/0/threshold'],
    [JSON.stringify([{ name: 'Bad Name', kind: 'consumer-lag', maxPending: 1 }]), '/0/name'],
    [JSON.stringify([{ name: 'escalation', kind: 'consumer-lag', maxPending: 1 }]), 'reserved'],
    [JSON.stringify([{ name: 'x', kind: 'nope' }]), '/0/kind'],
    [JSON.stringify([{ name: 'x', kind: 'consumer-lag', maxPending: 1, extra: 1 }]), 'extra'],
    [
      JSON.stringify([
        { name: 'x', kind: 'consumer-lag', maxPending: 1 },
        { name: 'x', kind: 'stuck-executions', afterSeconds: 5 },
      ]),
      "/1/name: duplicate rule name 'x'",
    ],
    [JSON.stringify([{ name: 'w', kind: 'error-rate', threshold: 0.1, window: '2m' }]), '/0/window'],
  ])('rejects %s naming the problem', (raw, expected) => {
    const out = parse(raw);
    expect(out.success).toBe(false);
    expect(out.error?.issues.map((i) => i.message).join('\n')).toContain(expected);
  });
});

describe('AlertBook', () => {
  it('fires once while breached, updates the value, resolves, and keeps the recent ones', () => {
    const c = clock();
    const book = new AlertBook(c.now);
    const o = (value: number, breached: boolean) => ({
      key: 'all',
      value,
      breached,
      labels: {},
      summary: `v=${value}`,
    });

    const fired = book.apply(stuck, [o(3, true)]);
    expect(fired.map((t) => [t.alert.state, t.alert.value, t.msgId])).toEqual([
      ['firing', 3, 'alert:stuck:all:2026-06-01T12:00:00.000Z:firing'],
    ]);
    c.advance(15_000);
    expect(book.apply(stuck, [o(5, true)])).toEqual([]);
    expect(book.firing()).toMatchObject([
      { value: 5, firedAt: '2026-06-01T12:00:00.000Z', evaluatedAt: '2026-06-01T12:00:15.000Z' },
    ]);

    c.advance(15_000);
    const resolved = book.apply(stuck, [o(0, false)]);
    expect(resolved.map((t) => [t.alert.state, t.alert.resolvedAt, t.msgId])).toEqual([
      ['resolved', '2026-06-01T12:00:30.000Z', 'alert:stuck:all:2026-06-01T12:00:00.000Z:resolved'],
    ]);
    expect(book.firing()).toEqual([]);
    expect(book.recent()).toMatchObject([{ name: 'stuck', state: 'resolved', value: 0 }]);
  });

  it('resolves an alert whose subject is no longer observed, and ignores failed evaluations', () => {
    const c = clock();
    const book = new AlertBook(c.now);
    const obs = (key: string) => ({ key, value: 500, breached: true, labels: {}, summary: key });
    book.apply(lag, [obs('consumer:A/a'), obs('consumer:B/b')]);
    expect(book.apply(lag, null)).toEqual([]);
    expect(book.firing()).toHaveLength(2);
    const t = book.apply(lag, [obs('consumer:B/b')]);
    expect(t.map((x) => [x.alert.key, x.alert.state])).toEqual([['consumer:A/a', 'resolved']]);
  });

  it('keeps at most RECENT_ALERTS resolved alerts, newest first', () => {
    const c = clock();
    const book = new AlertBook(c.now);
    for (let i = 0; i < RECENT_ALERTS + 5; i++) {
      book.apply(stuck, [{ key: 'all', value: i, breached: true, labels: {}, summary: '' }]);
      c.advance(1000);
      book.apply(stuck, [{ key: 'all', value: i, breached: false, labels: {}, summary: '' }]);
      c.advance(1000);
    }
    const recent = book.recent();
    expect(recent).toHaveLength(RECENT_ALERTS);
    expect(recent[0]?.value).toBe(RECENT_ALERTS + 4);
  });
});

describe('evaluateRules', () => {
  it('fires and resolves an error-rate alert per workflow on baton.alerts.<rule>', async () => {
    const c = clock();
    const { state, sources } = fakeSources(c.now);
    const book = new AlertBook(c.now);
    const queue: AlertTransition[] = [];
    state.workflows = [workflow('orders', 7, 3), workflow('quiet', 1, 4), workflow('fine', 19, 1)];

    await evaluateRules([errorRate], book, sources, c.now(), queue);
    // quiet: 80 % failed but only 5 finished (< minExecutions); fine: 5 % <= 20 %.
    expect(state.published).toEqual([
      {
        subject: 'baton.alerts.orders-failing',
        state: 'firing',
        key: 'workflow:orders',
        msgId: 'alert:orders-failing:workflow:orders:2026-06-01T12:00:00.000Z:firing',
      },
    ]);
    expect(book.firing()[0]).toMatchObject({
      value: 0.3,
      threshold: 0.2,
      labels: { workflowId: 'orders', window: '5m' },
    });

    c.advance(60_000);
    state.workflows = [workflow('orders', 18, 2), workflow('fine', 19, 1)];
    await evaluateRules([errorRate], book, sources, c.now(), queue);
    expect(state.published.map((p) => [p.state, p.key])).toEqual([
      ['firing', 'workflow:orders'],
      ['resolved', 'workflow:orders'],
    ]);
  });

  it('keeps alerts as they are when a source fails, and publishes queued transitions in order later', async () => {
    const c = clock();
    const { state, sources } = fakeSources(c.now);
    const book = new AlertBook(c.now);
    const queue: AlertTransition[] = [];
    const errors: string[] = [];
    state.consumers = [{ stream: 'BATON_TASKS', durable: 'task_a', pending: 150 }];
    state.failPublish = true;
    await evaluateRules([lag], book, sources, c.now(), queue);
    expect(queue).toHaveLength(1);
    expect(state.published).toEqual([]);

    c.advance(15_000);
    state.consumers = [{ stream: 'BATON_TASKS', durable: 'task_a', pending: 10 }];
    await evaluateRules([lag], book, sources, c.now(), queue);
    expect(queue).toHaveLength(2);

    state.failPublish = false;
    state.failAnalytics = true;
    c.advance(15_000);
    await evaluateRules([errorRate, lag], book, sources, c.now(), queue, {
      onError: (rule, err) => errors.push(`${rule.name}: ${(err as Error).message}`),
    });
    expect(errors).toEqual(['orders-failing: database down']);
    expect(queue).toEqual([]);
    expect(state.published.map((p) => [p.subject, p.state])).toEqual([
      ['baton.alerts.lagging', 'firing'],
      ['baton.alerts.lagging', 'resolved'],
    ]);
  });

  it('counts executions RUNNING or WAITING without progress past the bound as stuck', async () => {
    const c = clock();
    const { state, sources } = fakeSources(c.now);
    const at = (minutesAgo: number) => new Date(c.now().getTime() - minutesAgo * 60_000).toISOString();
    state.executions = [
      { executionId: 'old-running', workflowId: 'w', status: 'RUNNING', updatedAt: at(30) },
      { executionId: 'old-waiting', workflowId: 'w', status: 'WAITING', updatedAt: at(11) },
      { executionId: 'fresh', workflowId: 'w', status: 'RUNNING', updatedAt: at(2) },
    ];
    const [o] = await observeStuck(
      { name: 'stuck', kind: 'stuck-executions', afterSeconds: 600, minCount: 2 },
      sources.executions,
      c.now(),
    );
    expect(o).toMatchObject({ key: 'all', value: 2, breached: true });
    expect(o?.summary).toContain('old-running, old-waiting');
  });

  it('pages through the state-store until the last page', async () => {
    const c = clock();
    const pages: (string | undefined)[] = [];
    const list: ExecutionLister = async (q) => {
      pages.push(`${q.status}:${q.cursor ?? ''}`);
      return q.cursor === undefined && q.status === 'RUNNING'
        ? { items: [], nextCursor: 'p2' }
        : { items: [], nextCursor: null };
    };
    const [o] = await observeStuck(
      { name: 's', kind: 'stuck-executions', afterSeconds: 1, minCount: 1 },
      list,
      c.now(),
    );
    expect(pages).toEqual(['RUNNING:', 'RUNNING:p2', 'WAITING:']);
    expect(o).toMatchObject({ value: 0, breached: false });
  });
});
