import type { Engine } from 'json-rules-engine';

/** Longest pattern accepted by `matches`. */
export const MAX_REGEX_LENGTH = 200;
/** Longest string `matches` tests; a longer fact value does not match. */
export const MAX_MATCH_INPUT_LENGTH = 10_000;

/** json-rules-engine's own operators, accepted as they are. */
export const BUILT_IN_OPERATORS = [
  'equal',
  'notEqual',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
] as const;

/** Operators Baton registers on every engine (replacing json-rules-engine's `in` / `notIn`). */
export const CUSTOM_OPERATORS = ['in', 'notIn', 'matches', 'before', 'after', 'between'] as const;

/** Every operator a condition may name. */
export const OPERATORS: ReadonlySet<string> = new Set<string>([...BUILT_IN_OPERATORS, ...CUSTOM_OPERATORS]);

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** A moment to compare: a time of day (`14:30`, compared as text) or an ISO-8601 date/date-time (epoch ms). */
type Moment = { kind: 'time'; text: string } | { kind: 'date'; ms: number };

/** Parses an ISO-8601 date, date-time or time of day; undefined when it is none of those. */
export function parseMoment(value: unknown): Moment | undefined {
  if (typeof value !== 'string') return undefined;
  if (TIME_OF_DAY.test(value)) return { kind: 'time', text: value.length === 5 ? `${value}:00` : value };
  if (!ISO_DATE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : { kind: 'date', ms };
}

/** `a` compared with `b`: negative, 0, positive; undefined when they are not comparable. */
function compareMoments(a: Moment, b: Moment): number | undefined {
  if (a.kind === 'date' && b.kind === 'date') return a.ms - b.ms;
  if (a.kind === 'time' && b.kind === 'time') return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  return undefined;
}

/**
 * Why `pattern` may not be used by `matches`, or undefined when it may: too long, not a valid regular
 * expression, or open to catastrophic backtracking — a quantified group that itself contains a quantifier
 * (`(a+)+`, `(\w*)*`, `(x{1,3}){2,}`) or a back-reference.
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_REGEX_LENGTH) return `must be at most ${MAX_REGEX_LENGTH} characters`;
  try {
    new RegExp(pattern);
  } catch (err) {
    return `is not a valid regular expression (${(err as Error).message})`;
  }
  // Scan the pattern: for each open group, whether a quantifier occurs inside it.
  const groups: boolean[] = [];
  let lastGroupHadQuantifier = false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (!inClass && /[1-9k]/.test(pattern[i + 1] ?? '')) return 'must not use back-references';
      i++;
      lastGroupHadQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      lastGroupHadQuantifier = false;
    } else if (c === '(') {
      groups.push(false);
    } else if (c === ')') {
      lastGroupHadQuantifier = groups.pop() ?? false;
      if (lastGroupHadQuantifier && groups.length > 0) groups[groups.length - 1] = true;
      const next = pattern[i + 1];
      if (lastGroupHadQuantifier && (next === '+' || next === '*' || next === '{')) {
        return 'must not nest quantifiers (a quantified group containing a quantifier backtracks catastrophically)';
      }
      continue;
    } else if (c === '+' || c === '*' || c === '{' || (c === '?' && pattern[i - 1] !== '(')) {
      if (groups.length > 0) groups[groups.length - 1] = true;
    }
    lastGroupHadQuantifier = false;
  }
  return undefined;
}

const compiled = new Map<string, RegExp>();
const MAX_COMPILED = 1_000;

/** The compiled `pattern` (cached); undefined when it may not be used (see {@link regexProblem}). */
function regexOf(pattern: string): RegExp | undefined {
  let re = compiled.get(pattern);
  if (re === undefined) {
    if (regexProblem(pattern) !== undefined) return undefined;
    re = new RegExp(pattern);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

type Evaluator = (factValue: unknown, value: unknown) => boolean;

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** The evaluators of {@link CUSTOM_OPERATORS}; each is false (never throws) on values of the wrong type. */
export const OPERATOR_EVALUATORS: Readonly<Record<(typeof CUSTOM_OPERATORS)[number], Evaluator>> = {
  in: (fact, value) => Array.isArray(value) && isScalar(fact) && value.includes(fact),
  notIn: (fact, value) =>
    Array.isArray(value) && isScalar(fact) && fact !== undefined && !value.includes(fact),
  matches: (fact, value) => {
    if (typeof fact !== 'string' || typeof value !== 'string' || fact.length > MAX_MATCH_INPUT_LENGTH)
      return false;
    return regexOf(value)?.test(fact) ?? false;
  },
  before: (fact, value) => {
    const [a, b] = [parseMoment(fact), parseMoment(value)];
    const cmp = a && b ? compareMoments(a, b) : undefined;
    return cmp !== undefined && cmp < 0;
  },
  after: (fact, value) => {
    const [a, b] = [parseMoment(fact), parseMoment(value)];
    const cmp = a && b ? compareMoments(a, b) : undefined;
    return cmp !== undefined && cmp > 0;
  },
  between: (fact, value) => {
    if (!Array.isArray(value) || value.length !== 2) return false;
    const [min, max] = value as unknown[];
    if (typeof min === 'number' && typeof max === 'number') {
      return typeof fact === 'number' && Number.isFinite(fact) && fact >= min && fact <= max;
    }
    const [f, lo, hi] = [parseMoment(fact), parseMoment(min), parseMoment(max)];
    if (!f || !lo || !hi) return false;
    const low = compareMoments(f, lo);
    const high = compareMoments(f, hi);
    return low !== undefined && high !== undefined && low >= 0 && high <= 0;
  },
};

/** Registers Baton's operators on `engine`. */
export function registerOperators(engine: Engine): Engine {
  for (const name of CUSTOM_OPERATORS) {
    engine.addOperator(name, OPERATOR_EVALUATORS[name]);
  }
  return engine;
}
