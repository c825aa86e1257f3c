import { validateRule } from './rule.validation';

const valid = {
  id: 'high-value',
  name: 'High value',
  category: 'fraud-policy',
  condition: { all: [{ fact: 'order', path: '$.total', operator: 'greaterThan', value: 1000 }] },
  actions: [{ type: 'review', params: { queue: 'manual' } }],
  priority: 10,
};

function problemsOf(body: unknown, idFromPath?: string): { path: string; rule?: string }[] {
  try {
    validateRule(body, idFromPath);
  } catch (err) {
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED' });
    return (err as { details: { path: string; rule?: string }[] }).details;
  }
  throw new Error('expected the rule to be rejected');
}

describe('validateRule', () => {
  it('accepts a valid rule and fills the defaults', () => {
    const { priority: _p, ...noPriority } = valid;
    expect(validateRule(noPriority)).toEqual({ ...noPriority, description: '', priority: 0, enabled: true });
    expect(validateRule({ ...valid, id: undefined }, 'high-value').id).toBe('high-value');
  });

  it('lists missing fields', () => {
    expect(problemsOf({})).toEqual(
      expect.arrayContaining(
        ['/id', '/name', '/category', '/condition', '/actions'].map((path) =>
          expect.objectContaining({ path, rule: 'required' }),
        ),
      ),
    );
  });

  it('rejects unknown fields, at every level', () => {
    expect(
      problemsOf({
        ...valid,
        owner: 'x',
        condition: { all: [{ fact: 'a', operator: 'equal', value: 1, weight: 2 }], extra: true },
        actions: [{ type: 'review', when: 'now' }],
      }),
    ).toEqual([
      expect.objectContaining({ path: '/owner', rule: 'unknown' }),
      expect.objectContaining({ path: '/condition/extra', rule: 'unknown' }),
      expect.objectContaining({ path: '/condition/all/0/weight', rule: 'unknown' }),
      expect.objectContaining({ path: '/actions/0/when', rule: 'unknown' }),
    ]);
  });

  it('rejects an unknown operator with its path', () => {
    expect(
      problemsOf({ ...valid, condition: { any: [{ fact: 'a', operator: 'like', value: 'x' }] } }),
    ).toEqual([expect.objectContaining({ path: '/condition/any/0/operator', rule: 'unknownOperator' })]);
  });

  it('rejects malformed nesting', () => {
    expect(problemsOf({ ...valid, condition: { fact: 'a', operator: 'equal', value: 1 } })).toEqual([
      expect.objectContaining({ path: '/condition', rule: 'nesting' }),
    ]);
    expect(problemsOf({ ...valid, condition: { all: [], any: [] } })).toEqual([
      expect.objectContaining({ path: '/condition', rule: 'nesting' }),
    ]);
    expect(problemsOf({ ...valid, condition: { all: [] } })).toEqual([
      expect.objectContaining({ path: '/condition/all', rule: 'nesting' }),
    ]);
    expect(problemsOf({ ...valid, condition: { not: { any: ['x'] } } })).toEqual([
      expect.objectContaining({ path: '/condition/not/any/0', rule: 'nesting' }),
    ]);
    let deep: Record<string, unknown> = { fact: 'a', operator: 'equal', value: 1 };
    for (let i = 0; i < 12; i++) deep = { not: deep };
    expect(problemsOf({ ...valid, condition: deep })).toEqual([
      expect.objectContaining({ rule: 'maxDepth' }),
    ]);
  });

  it('rejects a path that is not a JSONPath', () => {
    for (const path of ['total', '$', '$..total', '$.a[?(@.x)]', '$.a.']) {
      expect(
        problemsOf({ ...valid, condition: { all: [{ fact: 'o', path, operator: 'equal', value: 1 }] } }),
      ).toEqual([expect.objectContaining({ path: '/condition/all/0/path', rule: 'path' })]);
    }
    expect(
      validateRule({
        ...valid,
        condition: { all: [{ fact: 'o', path: '$.items[0].price', operator: 'equal', value: 1 }] },
      }),
    ).toBeDefined();
  });

  it('rejects a bad or catastrophic regex for matches at write time', () => {
    const withPattern = (value: unknown) => ({
      ...valid,
      condition: { all: [{ fact: 'email', operator: 'matches', value }] },
    });
    expect(problemsOf(withPattern('^(a+)+$'))).toEqual([
      expect.objectContaining({ path: '/condition/all/0/value', rule: 'regex' }),
    ]);
    expect(problemsOf(withPattern('[a-'))).toEqual([expect.objectContaining({ rule: 'regex' })]);
    expect(problemsOf(withPattern('x'.repeat(201)))).toEqual([expect.objectContaining({ rule: 'regex' })]);
    expect(problemsOf(withPattern(42))).toEqual([expect.objectContaining({ rule: 'type' })]);
  });

  it('checks operator values', () => {
    const leaf = (operator: string, value: unknown) => ({
      ...valid,
      condition: { all: [{ fact: 'f', operator, value }] },
    });
    expect(problemsOf(leaf('in', 'FR'))).toEqual([
      expect.objectContaining({ path: '/condition/all/0/value' }),
    ]);
    expect(problemsOf(leaf('before', 'tomorrow'))).toHaveLength(1);
    expect(problemsOf(leaf('between', [20, 10]))).toHaveLength(1);
    expect(problemsOf(leaf('between', ['2026-01-01', 5]))).toHaveLength(1);
    expect(problemsOf(leaf('greaterThan', '5'))).toHaveLength(1);
    expect(problemsOf(leaf('equal', { fact: 'other' }))).toHaveLength(1);
    expect(validateRule(leaf('between', ['2026-01-01', '2026-12-31']))).toBeDefined();
    expect(validateRule(leaf('after', '09:00'))).toBeDefined();
  });

  it('checks ids, category, priority, enabled and actions, listing every problem', () => {
    const problems = problemsOf({
      ...valid,
      id: 'Bad_Id',
      category: 'a.b',
      priority: 1.5,
      enabled: 'yes',
      actions: [{ params: [] }],
    });
    expect(problems.map((p) => p.path)).toEqual([
      '/id',
      '/category',
      '/priority',
      '/enabled',
      '/actions/0/type',
      '/actions/0/params',
    ]);
    expect(problemsOf({ ...valid, actions: [] })).toEqual([expect.objectContaining({ path: '/actions' })]);
    expect(problemsOf({ ...valid, id: 'x'.repeat(129) })).toEqual([expect.objectContaining({ path: '/id' })]);
    expect(problemsOf(valid, 'other-id')).toEqual([
      expect.objectContaining({ path: '/id', rule: 'mismatch' }),
    ]);
    expect(problemsOf([valid])).toEqual([expect.objectContaining({ path: '', rule: 'type' })]);
  });
});
