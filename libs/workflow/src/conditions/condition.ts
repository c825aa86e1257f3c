import { Engine } from 'json-rules-engine';
import type { TopLevelCondition } from 'json-rules-engine';

import type { ErrorDetail } from '@baton/contracts';

import { isExpression } from '../expressions/expression';
import { OPERATORS, parseMoment, regexProblem, registerOperators } from './operators';

/**
 * Conditions in json-rules-engine form, shared by rules (rule-engine), trigger conditions and event waits
 * (orchestrator): one validator, one set of operators, one path resolver, so a condition means the same
 * wherever it is written.
 */

/** Bounds of a condition. */
export const CONDITION_LIMITS = {
  fact: 128,
  conditions: 200,
  depth: 10,
} as const;

/** A JSONPath into a fact: `$.a.b`, `$.items[0].price`. */
export const FACT_PATH = /^\$(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[\d{1,6}\])+$/;

const LEAF_KEYS = new Set(['fact', 'operator', 'value', 'path']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

type Add = (path: string, message: string, rule: string) => void;

/**
 * Every problem of a top-level condition (`{ all | any | not }`), each with its JSON pointer under `path`:
 * malformed nesting, unknown fields, unknown operators, fact paths that are not simple JSONPaths, values
 * of the wrong type for their operator, regexes that could backtrack, and the size bounds.
 */
export function conditionProblems(
  condition: unknown,
  path: string,
  options: {
    /** The facts a condition may name; any fact when absent. */
    facts?: readonly string[];
    /** Values may be `{% %}` expressions, evaluated before the condition is used (event waits). */
    expressionValues?: boolean;
  } = {},
): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const add: Add = (p, message, rule) => {
    if (options.expressionValues && p.endsWith('/value') && isExpression(valueAt(condition, path, p))) return;
    problems.push({ path: p, message, rule });
  };
  checkTopLevel(condition, path, add);
  const allowed = options.facts;
  if (allowed !== undefined && problems.length === 0) {
    forEachLeaf(condition, path, (leaf, at) => {
      if (typeof leaf.fact === 'string' && !allowed.includes(leaf.fact)) {
        add(`${at}/fact`, `must be one of ${allowed.join(', ')}`, 'unknownFact');
      }
    });
  }
  return problems;
}

/** The value at JSON pointer `pointer` (which starts with `base`, the pointer of `root`). */
function valueAt(root: unknown, base: string, pointer: string): unknown {
  let current = root;
  for (const token of pointer.slice(base.length).split('/').filter(Boolean)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[token];
  }
  return current;
}

/** Calls `visit` with every leaf of a structurally valid condition and its pointer. */
function forEachLeaf(
  node: unknown,
  path: string,
  visit: (leaf: Record<string, unknown>, path: string) => void,
): void {
  if (!isObject(node)) return;
  if (Array.isArray(node.all)) node.all.forEach((c, i) => forEachLeaf(c, `${path}/all/${i}`, visit));
  else if (Array.isArray(node.any)) node.any.forEach((c, i) => forEachLeaf(c, `${path}/any/${i}`, visit));
  else if (node.not !== undefined) forEachLeaf(node.not, `${path}/not`, visit);
  else visit(node, path);
}

function checkTopLevel(node: unknown, path: string, add: Add): void {
  if (!isObject(node) || !['all', 'any', 'not'].some((k) => k in node)) {
    add(path, 'must be an object with exactly one of all, any, not', 'nesting');
    return;
  }
  const counter = { n: 0 };
  checkNode(node, path, 1, counter, add);
  if (counter.n > CONDITION_LIMITS.conditions) {
    add(
      path,
      `must hold at most ${CONDITION_LIMITS.conditions} conditions (has ${counter.n})`,
      'maxConditions',
    );
  }
}

function checkNode(node: unknown, path: string, depth: number, counter: { n: number }, add: Add): void {
  if (!isObject(node)) {
    add(path, 'must be a condition object', 'nesting');
    return;
  }
  if (depth > CONDITION_LIMITS.depth) {
    add(path, `nests deeper than ${CONDITION_LIMITS.depth} levels`, 'maxDepth');
    return;
  }
  const combinators = ['all', 'any', 'not'].filter((k) => k in node);
  if (combinators.length > 1) {
    add(path, `must have exactly one of all, any, not (has ${combinators.join(', ')})`, 'nesting');
    return;
  }
  if (combinators.length === 1) {
    const key = combinators[0];
    for (const other of Object.keys(node)) {
      if (other !== key) add(`${path}/${other}`, 'is not a known field', 'unknown');
    }
    const inner = node[key];
    if (key === 'not') {
      checkNode(inner, `${path}/not`, depth + 1, counter, add);
    } else if (!Array.isArray(inner) || inner.length === 0) {
      add(`${path}/${key}`, 'must be a non-empty array of conditions', 'nesting');
    } else {
      inner.forEach((child, i) => checkNode(child, `${path}/${key}/${i}`, depth + 1, counter, add));
    }
    return;
  }
  counter.n++;
  checkLeaf(node, path, add);
}

function checkLeaf(node: Record<string, unknown>, path: string, add: Add): void {
  for (const key of Object.keys(node)) {
    if (!LEAF_KEYS.has(key)) add(`${path}/${key}`, 'is not a known field', 'unknown');
  }
  const { fact, operator, path: factPath } = node;
  if (fact === undefined) add(`${path}/fact`, 'is required', 'required');
  else if (typeof fact !== 'string' || fact.length === 0 || fact.length > CONDITION_LIMITS.fact) {
    add(`${path}/fact`, `must be a non-empty string of at most ${CONDITION_LIMITS.fact} characters`, 'type');
  }
  if (
    factPath !== undefined &&
    (typeof factPath !== 'string' || factPath.length > 256 || !FACT_PATH.test(factPath))
  ) {
    add(`${path}/path`, 'must be a JSONPath like $.a.b or $.items[0].price', 'path');
  }
  if (!('value' in node)) add(`${path}/value`, 'is required', 'required');
  if (operator === undefined) {
    add(`${path}/operator`, 'is required', 'required');
    return;
  }
  if (typeof operator !== 'string' || !OPERATORS.has(operator)) {
    add(`${path}/operator`, `must be one of ${[...OPERATORS].join(', ')}`, 'unknownOperator');
    return;
  }
  if ('value' in node) checkValue(operator, node.value, `${path}/value`, add);
}

function checkValue(operator: string, value: unknown, path: string, add: Add): void {
  if (isObject(value) && 'fact' in value) {
    add(path, 'must be a literal (fact references are not supported)', 'type');
    return;
  }
  switch (operator) {
    case 'in':
    case 'notIn':
      if (!Array.isArray(value)) add(path, `must be an array for ${operator}`, 'type');
      return;
    case 'lessThan':
    case 'lessThanInclusive':
    case 'greaterThan':
    case 'greaterThanInclusive':
      if (typeof value !== 'number') add(path, `must be a number for ${operator}`, 'type');
      return;
    case 'matches': {
      if (typeof value !== 'string') {
        add(path, 'must be a regular expression string for matches', 'type');
        return;
      }
      const problem = regexProblem(value);
      if (problem !== undefined) add(path, problem, 'regex');
      return;
    }
    case 'before':
    case 'after':
      if (parseMoment(value) === undefined) {
        add(path, `must be an ISO-8601 date, date-time or time of day (HH:MM[:SS]) for ${operator}`, 'type');
      }
      return;
    case 'between': {
      const ok =
        Array.isArray(value) &&
        value.length === 2 &&
        ((typeof value[0] === 'number' && typeof value[1] === 'number' && value[0] <= value[1]) ||
          betweenMoments(value[0], value[1]));
      if (!ok) add(path, 'must be [min, max] of numbers or of ISO-8601 dates/times, min <= max', 'type');
      return;
    }
    default:
      return;
  }
}

function betweenMoments(min: unknown, max: unknown): boolean {
  const [lo, hi] = [parseMoment(min), parseMoment(max)];
  if (!lo || !hi || lo.kind !== hi.kind) return false;
  return lo.kind === 'date' && hi.kind === 'date' ? lo.ms <= hi.ms : (min as string) <= (max as string);
}

const pathSegments = new Map<string, (string | number)[]>();
const MAX_CACHED_PATHS = 10_000;

/**
 * Resolves the JSONPaths conditions may use (`$.a.b`, `$.items[0].price`: validated at write time) without
 * a general JSONPath engine: the segments of each path are parsed once. Undefined when a step is missing.
 */
export function resolvePath(value: unknown, path: string): unknown {
  let segments = pathSegments.get(path);
  if (segments === undefined) {
    segments = [...path.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
      m[2] === undefined ? m[1] : Number(m[2]),
    );
    if (pathSegments.size >= MAX_CACHED_PATHS) pathSegments.clear();
    pathSegments.set(path, segments);
  }
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Object.prototype.hasOwnProperty.call(current, segment)
      ? (current as Record<string | number, unknown>)[segment]
      : undefined;
  }
  return current;
}

/** A json-rules-engine {@link Engine} with Baton's operators and path resolver (no rules yet). */
export function conditionEngine(): Engine {
  return registerOperators(new Engine([], { allowUndefinedFacts: true, pathResolver: resolvePath }));
}

/** One validated condition, compiled once and tested against facts many times. */
export class CompiledCondition {
  private readonly engine = conditionEngine();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(condition: unknown) {
    this.engine.addRule({ conditions: condition as TopLevelCondition, event: { type: 'holds' } });
  }

  /** Whether the condition holds for `facts`. Runs are serialized: an engine's run state is shared. */
  holds(facts: Record<string, unknown>): Promise<boolean> {
    const run = this.queue.then(async () => (await this.engine.run(facts)).events.length > 0);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
