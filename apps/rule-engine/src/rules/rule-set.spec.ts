import type { StoredRule } from '@baton/persistence';

import { CompiledRuleSet, RuleSetCache } from './rule-set';

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
        return Promise.resolve([rule(`r${loads.length}`, 1, 'approve', 0)]);
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
      () => (fail ? Promise.reject(new Error('db down')) : Promise.resolve([])),
      60_000,
    );
    await expect(cache.get('c')).rejects.toThrow('db down');
    fail = false;
    expect((await cache.get('c')).rules).toEqual([]);
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
