import type { Routing } from '@baton/contracts';

import { Router } from './routing';
import type { RouteContext } from './routing';
import { LIVENESS_WINDOW_MS, WorkerLiveness } from './worker-liveness';

const ctx = (over: Partial<RouteContext> = {}): RouteContext => ({
  failed: new Set(),
  isLive: () => true,
  remainingBudget: undefined,
  key: 'wf:step',
  random: () => 0,
  ...over,
});

describe('Router', () => {
  const candidates = [{ action: 'p.a' }, { action: 'p.b' }, { action: 'p.c' }];

  it('fails over to the first candidate that has not failed and has a live worker', () => {
    const router = new Router();
    const failover: Routing = { strategy: 'failover', candidates };
    expect(router.choose(failover, ctx())).toMatchObject({ action: 'p.a' });
    expect(router.choose(failover, ctx({ failed: new Set(['p.a']) }))).toMatchObject({ action: 'p.b' });
    expect(router.choose(failover, ctx({ isLive: (a) => a === 'p.c' }))).toMatchObject({ action: 'p.c' });
    // Nobody live: the first open candidate anyway (its task waits for a worker).
    expect(router.choose(failover, ctx({ isLive: () => false, failed: new Set(['p.a']) }))).toMatchObject({
      action: 'p.b',
    });
    expect(router.choose(failover, ctx({ failed: new Set(['p.a', 'p.b', 'p.c']) }))).toEqual({
      error: expect.objectContaining({ type: 'NO_CANDIDATE' }),
    });
  });

  it('turns round-robin per step across executions, over live candidates', () => {
    const router = new Router();
    const rr: Routing = { strategy: 'round-robin', candidates };
    const picks = Array.from({ length: 6 }, () => (router.choose(rr, ctx()) as { action: string }).action);
    expect(picks).toEqual(['p.a', 'p.b', 'p.c', 'p.a', 'p.b', 'p.c']);
    const other = (router.choose(rr, ctx({ key: 'wf:other' })) as { action: string }).action;
    expect(other).toBe('p.a');
    const live = (router.choose(rr, ctx({ isLive: (a) => a !== 'p.a' })) as { action: string }).action;
    expect(['p.b', 'p.c']).toContain(live);
  });

  it('splits by weight', () => {
    const router = new Router();
    const weighted: Routing = {
      strategy: 'weighted',
      candidates: [
        { action: 'p.a', weight: 3 },
        { action: 'p.b', weight: 1 },
      ],
    };
    expect(router.choose(weighted, ctx({ random: () => 0.5 }))).toMatchObject({ action: 'p.a' });
    expect(router.choose(weighted, ctx({ random: () => 0.8 }))).toMatchObject({ action: 'p.b' });
  });

  it('picks the best benefit/cost that fits the budget, or BUDGET_EXCEEDED', () => {
    const router = new Router();
    const best: Routing = {
      strategy: 'best-score',
      candidates: [
        { action: 'p.cheap', cost: 1, benefit: 1 },
        { action: 'p.good', cost: 4, benefit: 8 },
        { action: 'p.gold', cost: 10, benefit: 30 },
      ],
    };
    expect(router.choose(best, ctx())).toMatchObject({ action: 'p.gold', cost: 10 });
    expect(router.choose(best, ctx({ remainingBudget: 5 }))).toMatchObject({ action: 'p.good', cost: 4 });
    expect(router.choose(best, ctx({ remainingBudget: 2 }))).toMatchObject({ action: 'p.cheap' });
    expect(router.choose(best, ctx({ remainingBudget: 0.5 }))).toEqual({
      error: expect.objectContaining({ type: 'BUDGET_EXCEEDED' }),
    });
  });
});

describe('WorkerLiveness', () => {
  it('counts an action live while a worker that handles it heartbeats, not after its goodbye or silence', () => {
    let now = 0;
    const liveness = new WorkerLiveness(() => now);
    liveness.start({ subscribe: () => ({ unsubscribe: () => undefined }) } as never);
    now = 60_000;
    expect(liveness.isLive('p.a')).toBe(false);
    liveness.observe({ workerId: 'w1', actions: ['p.a'] });
    expect(liveness.isLive('p.a')).toBe(true);
    expect(liveness.isLive('p.b')).toBe(false);
    now += LIVENESS_WINDOW_MS + 1;
    expect(liveness.isLive('p.a')).toBe(false);
    liveness.observe({ workerId: 'w1', actions: ['p.a'] });
    liveness.forget('w1');
    expect(liveness.isLive('p.a')).toBe(false);
  });

  it('counts every action live just after it starts, before the first heartbeats can arrive', () => {
    let now = 1_000;
    const liveness = new WorkerLiveness(() => now);
    liveness.start({ subscribe: () => ({ unsubscribe: () => undefined }) } as never);
    expect(liveness.isLive('anything')).toBe(true);
    now += 10_000;
    expect(liveness.isLive('anything')).toBe(false);
  });
});
