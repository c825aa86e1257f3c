import type { StoredRule } from '@baton/persistence';

import { CompiledRuleSet, PinnedRuleSets, RuleSetCache } from './rule-set';

function rule(id: string, priority: number, type: string, min: number): StoredRule {
  return {
    id,
    name: id,
    description: '',
    category: 'c',
    condition: { all: [{ fact: 'total', operator: 'greaterThan', value: min }] },
    actions: [{ type }],
    priority,
    enabled: true,
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('CompiledRuleSet', () => {
  const set = new CompiledRuleSet([rule('low', 1, 'approve', 0), rule('high', 10, 'review', 1000)]);

  it('decides by the highest-priority satisfied rule, else default', async () => {
    expect(await set.evaluate({ total: 5000 })).toEqual({
      outcome: 'review',
      rules: [
        { id: 'high', version: 1, priority: 10, satisfied: true, event: { type: 'review' } },
        { id: 'low', version: 1, priority: 1, satisfied: true, event: { type: 'approve' } },
      ],
    });
    expect((await set.evaluate({ total: 50 })).outcome).toBe('approve');
    expect((await set.evaluate({ total: -1 })).outcome).toBe('default');
    expect((await set.evaluate({})).outcome).toBe('default');
  });

  it('gives each of many concurrent runs its own answer', async () => {
    const totals = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 5000 : i % 3 === 1 ? 50 : -1));
    const outcomes = await Promise.all(totals.map((total) => set.evaluate({ total })));
    expect(outcomes.map((d) => d.outcome)).toEqual(
      totals.map((t) => (t > 1000 ? 'review' : t > 0 ? 'approve' : 'default')),
    );
  });
});

describe('RuleSetCache', () => {
  it('compiles a category once, and again after invalidation or expiry', async () => {
    let now = 0;
    const loads: string[] = [];
    const cache = new RuleSetCache(
      (category) => {
        loads.push(category);
        return Promise.resolve({ rules: [rule(`r${loads.length}`, 1, 'approve', 0)], changedAt: null });
      },
      1_000,
      () => now,
    );
    const first = await cache.get('c');
    expect(await cache.get('c')).toBe(first);
    expect(cache.has('c')).toBe(true);
    cache.invalidate('c');
    expect(cache.has('c')).toBe(false);
    const second = await cache.get('c');
    expect(second).not.toBe(first);
    expect(second.rules[0].id).toBe('r2');
    now = 1_000;
    expect((await cache.get('c')).rules[0].id).toBe('r3');
    await cache.get('d');
    cache.invalidateAll();
    expect(cache.has('c') || cache.has('d')).toBe(false);
    expect(loads).toEqual(['c', 'c', 'c', 'd']);
  });

  it('does not keep a failed load', async () => {
    let fail = true;
    const cache = new RuleSetCache(
      () => (fail ? Promise.reject(new Error('db down')) : Promise.resolve({ rules: [], changedAt: null })),
      60_000,
    );
    await expect(cache.get('c')).rejects.toThrow('db down');
    fail = false;
    expect((await cache.get('c')).rules).toEqual([]);
  });
});

describe('PinnedRuleSets', () => {
  const changedAt = new Date('2026-03-01T12:00:00.000Z');
  const current = new CompiledRuleSet([rule('now', 1, 'reject', 0)], changedAt);

  it('serves executions started after the last change from the current set, without loading', async () => {
    const loads: string[] = [];
    const pinned = new PinnedRuleSets((category, asOf) => {
      loads.push(`${category}@${asOf.toISOString()}`);
      return Promise.resolve([]);
    });
    expect(await pinned.get('c', changedAt, current)).toBe(current);
    expect(await pinned.get('c', new Date('2026-03-02T00:00:00.000Z'), current)).toBe(current);
    const never = new CompiledRuleSet([], null);
    expect(await pinned.get('c', new Date(0), never)).toBe(never);
    expect(loads).toEqual([]);
  });

  it('loads the set of an earlier time once, and evaluates with it', async () => {
    const loads: string[] = [];
    const pinned = new PinnedRuleSets((category, asOf) => {
      loads.push(`${category}@${asOf.toISOString()}`);
      return Promise.resolve([rule('then', 1, 'approve', 0)]);
    });
    const asOf = new Date('2026-02-01T00:00:00.000Z');
    const then = await pinned.get('c', asOf, current);
    expect(await pinned.get('c', asOf, current)).toBe(then);
    expect((await then.evaluate({ total: 1 })).outcome).toBe('approve');
    expect((await current.evaluate({ total: 1 })).outcome).toBe('reject');
    expect(loads).toEqual(['c@2026-02-01T00:00:00.000Z']);
  });

  it('keeps at most its capacity, dropping the least recently used, and no failed load', async () => {
    let fail = false;
    const pinned = new PinnedRuleSets(
      () => (fail ? Promise.reject(new Error('db down')) : Promise.resolve([])),
      2,
    );
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));
    const first = await pinned.get('c', at(1), current);
    await pinned.get('c', at(2), current);
    expect(await pinned.get('c', at(1), current)).toBe(first);
    await pinned.get('c', at(3), current);
    expect(pinned.size).toBe(2);
    expect(await pinned.get('c', at(1), current)).toBe(first);
    fail = true;
    await expect(pinned.get('c', at(4), current)).rejects.toThrow('db down');
    expect(pinned.size).toBe(1);
    fail = false;
    expect(await pinned.get('c', at(1), current)).toBe(first);
  });
});

describe('resolvePath', () => {
  it('follows $.a.b and [n] steps, undefined when a step is missing', async () => {
    const { resolvePath } = await import('./rule-set');
    const value = { a: { b: 2, items: [{ price: 5 }, { price: 7 }] } };
    expect(resolvePath(value, '$.a.b')).toBe(2);
    expect(resolvePath(value, '$.a.items[1].price')).toBe(7);
    expect(resolvePath(value, '$.a.missing.b')).toBeUndefined();
    expect(resolvePath(value, '$.a.items[5].price')).toBeUndefined();
    expect(resolvePath(value, '$.a.b.c')).toBeUndefined();
    expect(resolvePath(value, '$.toString')).toBeUndefined();
  });
});
