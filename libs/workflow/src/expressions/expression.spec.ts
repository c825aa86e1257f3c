import { checkExpressionSyntax, expressionBody, findExpressions, isExpression } from './expression';

describe('isExpression / expressionBody', () => {
  it.each(['{% $input %}', '  {%$input.id%}  ', '{%\n  $count($steps.*)\n%}', '{%%}'])(
    '%j is an expression',
    (s) => {
      expect(isExpression(s)).toBe(true);
    },
  );

  it.each(['$input', 'say {% $x %}', '{% $x', '$x %}', '{%', '%}', 42, null, undefined, { a: '{% $x %}' }])(
    '%j is not an expression',
    (v) => {
      expect(isExpression(v)).toBe(false);
    },
  );

  it('extracts the trimmed body', () => {
    expect(expressionBody('  {%  $input.orderId \n %} ')).toBe('$input.orderId');
    expect(expressionBody('{%%}')).toBe('');
    expect(expressionBody('$input.orderId')).toBe('$input.orderId');
  });
});

describe('findExpressions', () => {
  it('finds every expression string with its JSON pointer', () => {
    const value = { a: '{% 1 %}', b: ['x', { 'c/d': '{% 2 %}', 'e~f': ['{% 3 %}'] }], g: 'plain', h: null };
    expect(findExpressions(value, '/parameters')).toEqual([
      { path: '/parameters/a', expression: '{% 1 %}' },
      { path: '/parameters/b/1/c~1d', expression: '{% 2 %}' },
      { path: '/parameters/b/1/e~0f/0', expression: '{% 3 %}' },
    ]);
    expect(findExpressions('{% $x %}')).toEqual([{ path: '', expression: '{% $x %}' }]);
  });
});

describe('checkExpressionSyntax', () => {
  it('accepts valid JSONata and reports the parser message and position otherwise', () => {
    expect(checkExpressionSyntax('$count($steps.*[status="COMPLETED"])')).toBeUndefined();
    const problem = checkExpressionSyntax('$input.a +');
    expect(problem).toMatchObject({ code: 'S0207', position: 10 });
    expect(problem?.message).toContain('Unexpected end of expression');
  });
});
