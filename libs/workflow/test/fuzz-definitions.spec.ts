import { isBatonError } from '@baton/contracts';

import { ExpressionEvaluator, parseDefinitionText, validateDefinition } from '../src';
import { HOSTILE_EXPRESSIONS, type FuzzCase, definitionCorpus } from './fuzz-corpus';

const SEEDS = [1, 7, 20261206];
const CASES_PER_SEED = 180;

/** What the HTTP layer does with a body: text -> parse -> validate. Returns the problems, or [] when valid. */
function check(c: FuzzCase): {
  stage: 'parse' | 'validate';
  errors: { path: string; message: string; rule?: string }[];
} {
  let value: unknown = c.body;
  if (c.raw !== undefined) {
    const text =
      typeof c.raw.data === 'string'
        ? c.raw.data
        : new TextDecoder('utf-8', { fatal: false }).decode(c.raw.data);
    try {
      value = parseDefinitionText(text, c.raw.contentType);
    } catch (err) {
      // The only acceptable failure of the parser: a BatonError naming the spot.
      if (!isBatonError(err)) throw new Error(`${c.name}: parser threw a non-Baton error: ${String(err)}`);
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message.length).toBeGreaterThan(0);
      return {
        stage: 'parse',
        errors: err.details.map((d) => ({ path: d.path, message: d.message, rule: d.rule })),
      };
    }
  }
  const result = validateDefinition(value);
  return { stage: 'validate', errors: result.ok ? [] : result.errors };
}

describe.each(SEEDS)('definition fuzzing (seed %d)', (seed) => {
  const corpus = definitionCorpus(seed, CASES_PER_SEED);

  it('never throws: every case is parsed and validated, or rejected with errors naming paths', () => {
    const byKind = new Map<string, { valid: number; invalid: number }>();
    for (const c of corpus) {
      let outcome: ReturnType<typeof check>;
      try {
        outcome = check(c);
      } catch (err) {
        throw new Error(`case ${c.name} (seed ${seed}) threw: ${(err as Error).stack ?? String(err)}`);
      }
      const tally = byKind.get(c.kind) ?? { valid: 0, invalid: 0 };
      if (outcome.errors.length === 0) tally.valid++;
      else tally.invalid++;
      byKind.set(c.kind, tally);

      if (c.invalid && outcome.stage === 'validate') {
        expect({ name: c.name, rejected: outcome.errors.length > 0 }).toEqual({
          name: c.name,
          rejected: true,
        });
      }
      for (const e of outcome.errors) {
        expect(typeof e.path).toBe('string');
        expect(typeof e.message).toBe('string');
        expect(e.message.length).toBeGreaterThan(0);
        if (outcome.stage === 'validate') expect(e.path === '' || e.path.startsWith('/')).toBe(true);
      }
      if (c.expectRule !== undefined && outcome.stage === 'validate') {
        expect({ name: c.name, rules: outcome.errors.map((e) => e.rule) }).toEqual({
          name: c.name,
          rules: expect.arrayContaining([c.expectRule]),
        });
      }
    }
    // Every kind was exercised, and the invalid-by-construction ones were all rejected.
    expect([...byKind.keys()].sort()).toEqual(
      [
        'cycle',
        'deep',
        'fanOut',
        'garbage',
        'huge',
        'invalidUtf8',
        'jsonata',
        'wrongType',
        'yamlBomb',
      ].sort(),
    );
    expect(byKind.get('cycle')?.valid).toBe(0);
    expect(byKind.get('deep')?.valid).toBe(0);
    expect(byKind.get('yamlBomb')?.valid).toBe(0);
  });

  it('names the steps of the cycle in a cyclic DAG', () => {
    for (const c of corpus.filter((x) => x.kind === 'cycle')) {
      const { errors } = check(c);
      const cycle = errors.find((e) => e.rule === 'cycle');
      expect(cycle?.message).toMatch(/s\d+ -> .*s\d+/);
    }
  });
});

describe('hostile JSONata is evaluated within bounds', () => {
  const evaluator = new ExpressionEvaluator({
    timeoutMs: 200,
    maxMemoryMb: 64,
    poolSize: 1,
    maxResultBytes: 64 * 1024,
  });

  afterAll(() => evaluator.close());

  it.each(HOSTILE_EXPRESSIONS)(
    '%s fails with EXPRESSION_FAILED, and the evaluator keeps working',
    async (expression) => {
      // Accepted by validation (it parses), so it must be bounded when it runs.
      const def = {
        id: 'hostile',
        version: 1,
        steps: [{ id: 'a', type: 'task', action: 'x.y', parameters: { n: expression } }],
      };
      expect(validateDefinition(def).ok).toBe(true);
      const failure = await evaluator.evaluate(expression, { input: {} }, 'step a').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isBatonError(failure)).toBe(true);
      expect(failure).toMatchObject({
        code: 'EXPRESSION_FAILED',
        message: expect.stringContaining('step a'),
      });
      expect(await evaluator.evaluate('{% 1 + 1 %}', {}, 'after')).toBe(2);
    },
  );
});
