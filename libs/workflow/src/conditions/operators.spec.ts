import { Engine } from 'json-rules-engine';

import {
  MAX_MATCH_INPUT_LENGTH,
  OPERATOR_EVALUATORS as op,
  regexProblem,
  registerOperators,
} from './operators';

describe('custom operators', () => {
  it('in / notIn compare a scalar with the listed values', () => {
    expect(op.in('FR', ['FR', 'DE'])).toBe(true);
    expect(op.in('US', ['FR', 'DE'])).toBe(false);
    expect(op.in(2, [1, 2, 3])).toBe(true);
    expect(op.in('2', [1, 2, 3])).toBe(false);
    expect(op.in('FR', 'FR')).toBe(false);
    expect(op.notIn('US', ['FR', 'DE'])).toBe(true);
    expect(op.notIn('FR', ['FR', 'DE'])).toBe(false);
    expect(op.notIn(undefined, ['FR'])).toBe(false);
  });

  it('matches tests strings against a safe pattern and bounds the input', () => {
    expect(op.matches('a@example.com', '^[^@]+@example\\.com$')).toBe(true);
    expect(op.matches('a@other.org', '^[^@]+@example\\.com$')).toBe(false);
    expect(op.matches(42, '^4')).toBe(false);
    expect(op.matches('x'.repeat(MAX_MATCH_INPUT_LENGTH), '^x+$')).toBe(true);
    expect(op.matches('x'.repeat(MAX_MATCH_INPUT_LENGTH + 1), '^x+$')).toBe(false);
    // An unsafe pattern never runs, even if it reached the engine.
    expect(op.matches('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', '^(a+)+$')).toBe(false);
  });

  it('regexProblem rejects long, invalid and catastrophic patterns', () => {
    expect(regexProblem('^[a-z]+\\d{2,4}$')).toBeUndefined();
    expect(regexProblem('^(?:ab|cd)+$')).toBeUndefined();
    expect(regexProblem('^(ab)?c$')).toBeUndefined();
    expect(regexProblem('a'.repeat(201))).toMatch(/at most 200/);
    expect(regexProblem('(')).toMatch(/not a valid regular expression/);
    expect(regexProblem('^(a+)+$')).toMatch(/nest quantifiers/);
    expect(regexProblem('^(\\w*)*$')).toMatch(/nest quantifiers/);
    expect(regexProblem('^(?:x{1,3}){2,}$')).toMatch(/nest quantifiers/);
    expect(regexProblem('^((a|b)+c)*$')).toMatch(/nest quantifiers/);
    expect(regexProblem('^(a)\\1$')).toMatch(/back-references/);
    // Quantifiers inside a character class are literals.
    expect(regexProblem('^([+*]x)+$')).toBeUndefined();
  });

  it('before / after compare ISO dates, date-times and times of day', () => {
    expect(op.before('2026-01-01', '2026-06-01')).toBe(true);
    expect(op.before('2026-06-01T00:00:00Z', '2026-01-01')).toBe(false);
    expect(op.after('2026-06-01T10:00:00+02:00', '2026-06-01T07:59:59Z')).toBe(true);
    expect(op.before('09:30', '17:00:00')).toBe(true);
    expect(op.after('09:30', '17:00')).toBe(false);
    expect(op.before('09:30', '2026-01-01')).toBe(false);
    expect(op.before('not a date', '2026-01-01')).toBe(false);
    expect(op.after(undefined, '2026-01-01')).toBe(false);
  });

  it('between is inclusive, for numbers and for dates', () => {
    expect(op.between(10, [10, 20])).toBe(true);
    expect(op.between(20, [10, 20])).toBe(true);
    expect(op.between(20.5, [10, 20])).toBe(false);
    expect(op.between('15', [10, 20])).toBe(false);
    expect(op.between('2026-03-01', ['2026-01-01', '2026-12-31'])).toBe(true);
    expect(op.between('2027-01-01', ['2026-01-01', '2026-12-31'])).toBe(false);
    expect(op.between('12:00', ['09:00', '17:00'])).toBe(true);
    expect(op.between(5, [1])).toBe(false);
  });

  it('registers on a json-rules-engine Engine', async () => {
    const engine = registerOperators(new Engine([], { allowUndefinedFacts: true }));
    engine.addRule({
      name: 'r',
      conditions: {
        all: [
          { fact: 'order', path: '$.country', operator: 'in', value: ['FR', 'DE'] },
          { fact: 'order', path: '$.total', operator: 'between', value: [100, 500] },
          { fact: 'order', path: '$.email', operator: 'matches', value: '@example\\.com$' },
          { fact: 'order', path: '$.at', operator: 'after', value: '2026-01-01' },
        ],
      },
      event: { type: 'approve' },
    });
    const hit = await engine.run({
      order: { country: 'FR', total: 120, email: 'a@example.com', at: '2026-02-01T00:00:00Z' },
    });
    expect(hit.events).toEqual([{ type: 'approve' }]);
    const miss = await engine.run({
      order: { country: 'US', total: 120, email: 'a@example.com', at: '2026-02-01T00:00:00Z' },
    });
    expect(miss.events).toEqual([]);
  });
});
