import { createHash } from 'node:crypto';

import { canonicalJson, definitionDigest } from './canonical-json';
import { parseDefinitionText } from './definition.parser';
import { EXAMPLE_YAML, minimalDefinition } from '../../test/example-definition';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('follows JSON.stringify for undefined, functions and non-finite numbers', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined, NaN, Infinity], d: null })).toBe(
      '{"c":[null,null,null],"d":null}',
    );
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('x\u2028"')).toBe(JSON.stringify('x\u2028"'));
  });

  it('parses back to an equal value', () => {
    const def = parseDefinitionText(EXAMPLE_YAML);
    expect(JSON.parse(canonicalJson(def))).toEqual(def);
  });
});

describe('definitionDigest', () => {
  it('is a sha256 hex digest, stable across key order and source format', () => {
    const def = minimalDefinition();
    const digest = definitionDigest(def);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const reordered = JSON.parse(
      '{"steps":[{"action":"svc.a","type":"task","id":"a"},{"dependencies":["a"],"action":"svc.b","id":"b","type":"task"}],"version":1,"id":"demo"}',
    );
    expect(definitionDigest(reordered)).toBe(digest);
    const yaml =
      'id: demo\nversion: 1\nsteps:\n  - { id: a, type: task, action: svc.a }\n  - { id: b, type: task, action: svc.b, dependencies: [a] }\n';
    expect(definitionDigest(parseDefinitionText(yaml) as never)).toBe(digest);
  });

  it('is the known digest of a fixed document (stable across releases)', () => {
    expect(definitionDigest(minimalDefinition())).toBe(
      createHash('sha256')
        .update(
          '{"id":"demo","steps":[{"action":"svc.a","id":"a","type":"task"},{"action":"svc.b","dependencies":["a"],"id":"b","type":"task"}],"version":1}',
        )
        .digest('hex'),
    );
  });

  it('changes with any change of content, including array order', () => {
    const def = minimalDefinition();
    const digest = definitionDigest(def);
    expect(definitionDigest({ ...def, version: 2 })).not.toBe(digest);
    expect(definitionDigest({ ...def, steps: [...def.steps].reverse() })).not.toBe(digest);
    expect(definitionDigest({ ...def, name: 'x' })).not.toBe(digest);
  });
});
