import { isBatonError } from '@baton/contracts';
import type { BatonError } from '@baton/contracts';

import { ExpressionEvaluator } from './expression.evaluator';

jest.setTimeout(60_000);

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<BatonError> {
  try {
    await promise;
  } catch (err) {
    if (isBatonError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

const bindings = {
  input: {
    orderId: 'o-1',
    total: 120,
    items: [
      { sku: 'a', price: 5 },
      { sku: 'b', price: 15 },
    ],
  },
  steps: {
    reserve: { status: 'COMPLETED', output: { reservationId: 'r-9' } },
    charge: { status: 'RUNNING' },
  },
  event: { id: 'e-7', type: 'order.created' },
  execution: { id: 'x-1', workflowId: 'orders', version: 3, startedAt: '2030-01-01T00:00:00.000Z' },
  item: { sku: 'z' },
  index: 4,
};

describe('ExpressionEvaluator', () => {
  // A generous time bound keeps healthy evaluations far from it on a loaded machine; the bad expressions
  // below never finish, so they hit it whatever its value.
  const evaluator = new ExpressionEvaluator({ timeoutMs: 2000 });
  afterAll(() => evaluator.close());

  describe('bindings', () => {
    it.each([
      ['{% $input.orderId %}', 'o-1'],
      ['{% $steps.reserve.output.reservationId %}', 'r-9'],
      ['{% $steps.charge.status %}', 'RUNNING'],
      ['{% $event.type %}', 'order.created'],
      ['{% $execution.workflowId & "@" & $execution.version %}', 'orders@3'],
      ['{% $item.sku %}', 'z'],
      ['{% $index + 1 %}', 5],
      ['{% $input.items[price > 10].sku %}', 'b'],
      ['{% $count($input.items) %}', 2],
      ['{% $sum($input.items.price) %}', 20],
    ])('%s -> %j', async (expression, expected) => {
      await expect(evaluator.evaluate(expression, bindings, 'test')).resolves.toEqual(expected);
    });

    it('reads absent bindings as undefined', async () => {
      await expect(evaluator.evaluate('{% $event.id %}', { input: {} }, 'test')).resolves.toBeUndefined();
      await expect(evaluator.evaluate('{% $exists($item) %}', {}, 'test')).resolves.toBe(false);
    });

    it('accepts a bare body as well as {% %}', async () => {
      await expect(evaluator.evaluate('$input.total', bindings, 'test')).resolves.toBe(120);
    });

    it('returns fresh JSON values without functions', async () => {
      const out = (await evaluator.evaluate('{% $input.items %}', bindings, 'test')) as unknown[];
      expect(out).toEqual(bindings.input.items);
      expect(out).not.toBe(bindings.input.items);
      await expect(evaluator.evaluate('{% $sum %}', bindings, 'test')).resolves.toBeUndefined();
      await expect(
        evaluator.evaluate('{% { "f": function($x){ $x }, "n": 1 } %}', bindings, 'test'),
      ).resolves.toEqual({
        n: 1,
      });
    });
  });

  describe('evaluateTemplate', () => {
    it('replaces every expression, keeps literals and omits keys whose value is undefined', async () => {
      const template = {
        orderId: '{% $input.orderId %}',
        fixed: 42,
        text: 'say {% not an expression %}',
        nested: {
          list: ['{% $index %}', 'x', '{% $nothing %}', { n: '{% $count($input.items) %}' }],
          flag: true,
        },
        missing: '{% $input.absent %}',
        nil: null,
      };
      await expect(evaluator.evaluateTemplate(template, bindings, 'step s parameters')).resolves.toEqual({
        orderId: 'o-1',
        fixed: 42,
        text: 'say {% not an expression %}',
        nested: { list: [4, 'x', null, { n: 2 }], flag: true },
        nil: null,
      });
    });

    it('evaluates a template that is itself an expression, and passes other values through', async () => {
      await expect(evaluator.evaluateTemplate('{% $input.total %}', bindings, 'w')).resolves.toBe(120);
      await expect(evaluator.evaluateTemplate('{% $input.absent %}', bindings, 'w')).resolves.toBeUndefined();
      await expect(evaluator.evaluateTemplate([1, 'a'], bindings, 'w')).resolves.toEqual([1, 'a']);
      await expect(evaluator.evaluateTemplate(undefined, bindings, 'w')).resolves.toBeUndefined();
    });

    it('names where and the JSON pointer of a failing expression', async () => {
      const err = await rejection(
        evaluator.evaluateTemplate(
          { a: { b: ['ok', '{% $input.orderId + 1 %}'] } },
          bindings,
          'step reserve parameters',
        ),
      );
      expect(err.code).toBe('EXPRESSION_FAILED');
      expect(err.message).toMatch(
        /^step reserve parameters at \/a\/b\/1: expression \{% \$input.orderId \+ 1 %\} failed \(error\): /,
      );
      expect(err.context).toMatchObject({
        where: 'step reserve parameters at /a/b/1',
        reason: 'error',
        code: 'T2001',
      });
    });
  });

  describe('placement', () => {
    it('classifies expressions and counts where they ran', async () => {
      const local = new ExpressionEvaluator();
      try {
        expect(local.classify('{% $input.orderId %}')).toBe('inline');
        expect(local.classify('{% $uppercase($input.orderId) %}')).toBe('pool');
        await expect(local.evaluate('{% $input.orderId %}', bindings, 't')).resolves.toBe('o-1');
        await expect(
          local.evaluate('{% { "id": $input.orderId, "big": $input.total > 100 } %}', bindings, 't'),
        ).resolves.toEqual({
          id: 'o-1',
          big: true,
        });
        expect(local.stats()).toEqual({ inline: 2, pooled: 0, processesStarted: 0, processesReplaced: 0 });
        await expect(local.evaluate('{% $uppercase($input.orderId) %}', bindings, 't')).resolves.toBe('O-1');
        expect(local.stats()).toMatchObject({ inline: 2, pooled: 1, processesStarted: 1 });
      } finally {
        await local.close();
      }
    });

    it('sends a safe expression to the pool when its bindings are large', async () => {
      const local = new ExpressionEvaluator();
      try {
        const expression = `{% [${Array.from({ length: 40 }, () => '$input.a').join(', ')}] %}`;
        expect(local.classify(expression)).toBe('inline');
        await expect(local.evaluate(expression, { input: { a: 1 } }, 't')).resolves.toEqual(
          Array(40).fill(1),
        );
        expect(local.stats()).toMatchObject({ inline: 1, pooled: 0 });
        const large = { input: { a: 2, blob: 'x'.repeat(600 * 1024) } };
        await expect(local.evaluate(expression, large, 't')).resolves.toEqual(Array(40).fill(2));
        expect(local.stats()).toMatchObject({ inline: 1, pooled: 1 });
      } finally {
        await local.close();
      }
    });

    it('gives the same answers inline and in the pool', async () => {
      // `$string($x)` forces the pool; the same value computed inline must agree.
      const inline = await evaluator.evaluate(
        '{% { "a": $input.items[0], "t": $input.total } %}',
        bindings,
        't',
      );
      const pooled = await evaluator.evaluate(
        '{% $eval($string({ "a": $input.items[0], "t": $input.total })) %}',
        bindings,
        't',
      );
      expect(pooled).toEqual(inline);
    });

    it('runs many pool jobs concurrently on a small pool', async () => {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          evaluator.evaluate('{% $sum([1, 2, $index]) %}', { index: i }, 't'),
        ),
      );
      expect(results).toEqual(Array.from({ length: 12 }, (_, i) => 3 + i));
    });
  });

  describe('failures', () => {
    it('reports a syntax error with the parser message and position', async () => {
      const err = await rejection(evaluator.evaluate('{% $input.a + %}', bindings, 'trigger 0 input'));
      expect(err.code).toBe('EXPRESSION_FAILED');
      expect(err.retryable).toBe(false);
      expect(err.message).toBe(
        'trigger 0 input: expression {% $input.a + %} failed (error): syntax error at position 10: Unexpected end of expression',
      );
    });

    it('reports runtime errors inline and in the pool', async () => {
      const inline = await rejection(evaluator.evaluate('{% $input.orderId * 2 %}', bindings, 'w'));
      expect(inline.context).toMatchObject({ reason: 'error', code: 'T2001' });
      const pooled = await rejection(evaluator.evaluate('{% $number("abc") %}', bindings, 'w'));
      expect(pooled.context).toMatchObject({ reason: 'error', code: 'D3030' });
      expect(pooled.message).toContain('failed (error)');
    });

    it('rejects bindings over maxInputBytes before evaluating', async () => {
      const small = new ExpressionEvaluator({ maxInputBytes: 1000 });
      try {
        const big = { input: { blob: 'x'.repeat(2000) } };
        for (const expression of ['{% $input.blob %}', '{% $length($input.blob) %}']) {
          const err = await rejection(small.evaluate(expression, big, 'w'));
          expect(err.code).toBe('EXPRESSION_FAILED');
          expect(err.message).toMatch(/the bindings are \d+ bytes of JSON; the limit is 1000/);
        }
        expect(small.stats().processesStarted).toBe(0);
        await expect(small.evaluate('{% $input.blob %}', { input: { blob: 'ok' } }, 'w')).resolves.toBe('ok');
      } finally {
        await small.close();
      }
    });

    it('rejects results over maxResultBytes, inline and in the pool', async () => {
      const small = new ExpressionEvaluator({ maxResultBytes: 100 });
      try {
        const input = { input: { blob: 'y'.repeat(500) } };
        const inline = await rejection(small.evaluate('{% $input.blob %}', input, 'w'));
        expect(inline.message).toMatch(/the result is \d+ bytes of JSON; the limit is 100/);
        const pooled = await rejection(small.evaluate('{% $pad("", 1000, "z") %}', {}, 'w'));
        expect(pooled.message).toMatch(/the result is \d+ bytes of JSON; the limit is 100/);
      } finally {
        await small.close();
      }
    });

    it('fails after close with UNAVAILABLE, including jobs in flight', async () => {
      const local = new ExpressionEvaluator({ timeoutMs: 30_000 });
      const inFlight = rejection(
        local.evaluate('{% $match($input.s, /(a+)+$/) %}', { input: { s: `${'a'.repeat(40)}!` } }, 'w'),
      );
      // Once a second job went through, the first one is surely running in the other process.
      await expect(local.evaluate('{% $string(1) %}', {}, 'w')).resolves.toBe('1');
      await local.close();
      expect((await inFlight).code).toBe('UNAVAILABLE');
      expect((await rejection(local.evaluate('{% $input %}', {}, 'w'))).code).toBe('UNAVAILABLE');
    });
  });

  describe('bounds (each failure leaves this process working and the pool usable)', () => {
    const good = async (ev: ExpressionEvaluator): Promise<void> => {
      await expect(ev.evaluate('{% $join(["pool", "ok"], " ") %}', {}, 'check')).resolves.toBe('pool ok');
    };

    it('stops a non-terminating recursive function (timeout)', async () => {
      const err = await rejection(
        evaluator.evaluate('{% ($f := function($x){ $f($x) }; $f(1)) %}', {}, 'step loop parameters'),
      );
      expect(err.code).toBe('EXPRESSION_FAILED');
      expect(err.message).toMatch(
        /^step loop parameters: expression \{% \(\$f := function\(\$x\)\{ \$f\(\$x\) \}; \$f\(1\)\) %\} failed \(timeout\)/,
      );
      expect(err.context).toMatchObject({ reason: 'timeout' });
      await good(evaluator);
    });

    it('stops unbounded non-tail recursion (error: depth)', async () => {
      const err = await rejection(
        evaluator.evaluate('{% ($f := function($x){ 1 + $f($x) }; $f(1)) %}', {}, 'w'),
      );
      expect(err.context).toMatchObject({ reason: 'error', code: 'D1011' });
      await good(evaluator);
    });

    it('refuses a huge range', async () => {
      const err = await rejection(evaluator.evaluate('{% [1..100000000] %}', {}, 'w'));
      expect(err.code).toBe('EXPRESSION_FAILED');
      expect(err.message).toMatch(/failed \((error|memory|timeout)\)/);
      await good(evaluator);
    });

    it('survives a huge $sort', async () => {
      const err = await rejection(
        evaluator.evaluate('{% $count($sort([1..9000000], function($a, $b){ $a < $b })) %}', {}, 'w'),
      );
      expect(err.code).toBe('EXPRESSION_FAILED');
      expect(err.message).toMatch(/failed \((memory|timeout)\)/);
      await good(evaluator);
    });

    it('kills a catastrophic regex that cannot be interrupted (timeout) without blocking this process', async () => {
      const before = evaluator.stats().processesReplaced;
      const s = `${'a'.repeat(48)}!`;
      let settled = false;
      const slow = evaluator.evaluate(
        '{% $match($input.s, /(a+)+$/) %}',
        { input: { s } },
        'step regex parameters',
      );
      slow.then(
        () => (settled = true),
        () => (settled = true),
      );
      // The event loop stays free: inline work completes while the regex runs elsewhere.
      await expect(evaluator.evaluate('{% $input.s = "x" %}', { input: { s } }, 'w')).resolves.toBe(false);
      expect(settled).toBe(false);
      const err = await rejection(slow);
      expect(err.code).toBe('EXPRESSION_FAILED');
      expect(err.message).toContain(
        'step regex parameters: expression {% $match($input.s, /(a+)+$/) %} failed (timeout)',
      );
      expect(err.context).toMatchObject({ reason: 'timeout' });
      expect(evaluator.stats().processesReplaced).toBe(before + 1);
      await good(evaluator);
    });

    it('contains a memory bomb (memory)', async () => {
      // A long time bound so that the heap limit, not the clock, ends it.
      const local = new ExpressionEvaluator({ timeoutMs: 60_000, maxMemoryMb: 64, poolSize: 1 });
      try {
        const err = await rejection(
          local.evaluate(
            '{% $count([1..9999999].{ "n": $, "s": $string($) }) %}',
            {},
            'step bomb parameters',
          ),
        );
        expect(err.code).toBe('EXPRESSION_FAILED');
        expect(err.message).toMatch(
          /^step bomb parameters: expression .* failed \(memory\): evaluation exhausted the 64 MiB heap/,
        );
        expect(local.stats().processesReplaced).toBe(1);
        await good(local);
        expect(local.stats().processesStarted).toBe(2);
      } finally {
        await local.close();
      }
    });
  });
});
