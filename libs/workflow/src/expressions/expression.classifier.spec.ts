import jsonata from 'jsonata';

import { classifyAst } from './expression.classifier';

const classify = (body: string) => classifyAst(jsonata(body).ast());

describe('classifyAst', () => {
  it.each([
    '$input.orderId',
    '$steps.reserve.output.items[0].sku',
    '$steps.`pack-items`.output',
    '$event',
    '$execution.id & ":" & $index',
    '$item.price * 2 + 1',
    "{ 'orderId': $event.id, 'total': $event.total, 'tags': [1, 'x', true, null] }",
    '$input.total > 100 ? "big" : "small"',
    '$input.a = 1 and ($input.b != 2 or not_a_function)',
    '$input.items[price > 10 and qty >= 1].name',
    '$input.items.{ "sku": sku, "n": qty }',
    '$input.items[-1]',
    '$steps.*[status = "COMPLETED"]',
    '$input.kind in ["a", "b"]',
    '-$input.amount',
    '$',
    '$$.x',
    '"literal"',
    '($input.a; $input.b)',
  ])('runs %j inline', (body) => {
    expect(classify(body)).toBe('inline');
  });

  it.each([
    '$count($input.items)',
    '$string($input)',
    '($f := function($x){ $f($x) }; $f(1))',
    '($a := 1; $a)',
    '[1..100]',
    '$input.items^(price)',
    '$input.items{ sku: qty }',
    '$match($input.s, /(a+)+$/)',
    '/abc/',
    '$input ~> $keys',
    '$input.items#$i.sku',
    '$input.items@$v.sku',
    '$input.a.%.b',
    '**.id',
    '$input.items.($input.items)',
    '$input.items[$input.limit > 1]',
    '$input.items.$$',
    '$other.x',
    '$input ~> |$|{ "a": 1 }|',
    'function($x){ $x }',
  ])('sends %j to the pool', (body) => {
    expect(classify(body)).toBe('pool');
  });

  it('sends very large expressions to the pool', () => {
    const big = Array.from({ length: 300 }, (_, i) => `$input.f${i}`).join(' & ');
    expect(classify(big)).toBe('pool');
    expect(classify(Array.from({ length: 20 }, (_, i) => `$input.f${i}`).join(' & '))).toBe('inline');
  });
});
