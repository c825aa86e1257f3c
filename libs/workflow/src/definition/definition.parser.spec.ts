import { isBatonError } from '@baton/contracts';

import { jsonErrorOffset, parseDefinitionText } from './definition.parser';
import { EXAMPLE_YAML } from '../../test/example-definition';

function parseError(
  text: string,
  contentType?: string,
): { code: string; message: string; context: Record<string, unknown> } {
  try {
    parseDefinitionText(text, contentType);
  } catch (err) {
    if (!isBatonError(err)) throw err;
    return { code: err.code, message: err.message, context: err.context };
  }
  throw new Error('expected a parse error');
}

describe('parseDefinitionText', () => {
  const json = '{ "id": "demo", "version": 1, "steps": [{ "id": "a", "type": "task", "action": "svc.a" }] }';
  const yaml = 'id: demo\nversion: 1\nsteps:\n  - id: a\n    type: task\n    action: svc.a\n';

  it('reads JSON and YAML into the same value', () => {
    const expected = { id: 'demo', version: 1, steps: [{ id: 'a', type: 'task', action: 'svc.a' }] };
    expect(parseDefinitionText(json)).toEqual(expected);
    expect(parseDefinitionText(json, 'application/json; charset=utf-8')).toEqual(expected);
    expect(parseDefinitionText(yaml)).toEqual(expected);
    expect(parseDefinitionText(yaml, 'application/yaml')).toEqual(expected);
    expect(parseDefinitionText(yaml, 'text/yaml')).toEqual(expected);
    expect(parseDefinitionText(`\ufeff${json}`)).toEqual(expected);
  });

  it('reads JSON text as YAML when told it is YAML (JSON is YAML)', () => {
    expect(parseDefinitionText(json, 'application/yaml')).toEqual(parseDefinitionText(json));
  });

  it('reads the CONTRACT example, keeping expressions as strings', () => {
    const value = parseDefinitionText(EXAMPLE_YAML, 'application/yaml') as {
      steps: { parameters?: unknown }[];
      output: unknown;
    };
    expect(value.output).toBe('{% $steps.ship.output %}');
    expect(value.steps[0]?.parameters).toEqual({ orderId: '{% $input.orderId %}' });
  });

  it('names line and column of a JSON syntax error', () => {
    const err = parseError('{\n  "id": "demo",\n  "version": }');
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.context).toEqual({ format: 'json', line: 3, column: 14 });
    expect(err.message).toBe(`the definition is not valid JSON: line 3, column 14: unexpected character "}"`);
    expect(parseError('{"id": "demo"', 'application/json').message).toContain(
      'line 1, column 14: unexpected end of text',
    );
  });

  it('names line and column of a YAML syntax error', () => {
    const err = parseError('id: demo\nsteps: [a,\n  b: :', 'application/yaml');
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.context).toMatchObject({ format: 'yaml', line: 3 });
    expect(err.message).toMatch(/^the definition is not valid YAML: line 3, column \d+: /);
  });

  it('rejects duplicate keys, several documents, tags and non-JSON values in YAML', () => {
    expect(parseError('a: 1\na: 2').message).toContain('line 2, column 1: Map keys must be unique');
    expect(parseError('a: 1\n---\nb: 2').code).toBe('BAD_REQUEST');
    expect(parseError('a: !!binary aGk=').message).toContain('Unresolved tag');
    expect(parseError('a: !custom x').message).toContain('Unresolved tag');
    expect(parseError('a: .inf').message).toContain('not JSON at /a');
  });

  it('bounds YAML alias expansion', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 120; i++) lines.push(`b${i}: *a`);
    expect(parseError(lines.join('\n')).code).toBe('BAD_REQUEST');
  });

  it('rejects empty text', () => {
    expect(parseError('  \n').message).toContain('the definition is empty');
  });

  it('does not turn YAML 1.1 spellings into other types', () => {
    expect(parseDefinitionText('a: yes\nb: 2030-01-01\nc: 010')).toEqual({
      a: 'yes',
      b: '2030-01-01',
      c: 10,
    });
  });
});

describe('jsonErrorOffset', () => {
  it.each([
    ['{"a":}', 5],
    ['[1,2,]', 5],
    ['{"a" 1}', 5],
    ['{"a":1,}', 7],
    ['[1 2]', 3],
    ['"abc', 4],
    ['"a\\x"', 3],
    ['"\\u12G4"', 3],
    ['{"a":1}x', 7],
    ['tru', 0],
    ['[01]', 2],
    ['{"a":[{"b":[1,{]}]}', 15],
    ['', 0],
  ])('finds the error in %j at %i', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it('survives deep nesting', () => {
    const text = `${'['.repeat(100_000)}x`;
    expect(jsonErrorOffset(text)).toBe(100_000);
  });
});
