import type jsonata from 'jsonata';

/**
 * Where an expression is evaluated:
 * - `inline`: in the calling thread. Only expressions of the safe subset (below), whose work and result
 *   size are bounded by (expression size) x (bindings size), qualify.
 * - `pool`: in an isolated evaluator process that can be killed (see ExpressionEvaluator).
 */
export type ExpressionPlacement = 'inline' | 'pool';

/** Variables the safe subset may read: the bindings of CONTRACT §3.1. */
export const BINDING_NAMES: readonly string[] = ['input', 'steps', 'event', 'execution', 'item', 'index'];
const BINDINGS = new Set(BINDING_NAMES);

/** Operators of the safe subset: arithmetic, comparison, boolean, string concatenation, membership. */
const SAFE_BINARY = new Set([
  '+',
  '-',
  '*',
  '/',
  '%',
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'and',
  'or',
  '&',
  'in',
]);

/** AST properties the classifier understands; any other property sends the expression to the pool. */
const KNOWN_KEYS = new Set([
  'type',
  'value',
  'position',
  'steps',
  'stages',
  'predicate',
  'expressions',
  'expression',
  'lhs',
  'rhs',
  'condition',
  'then',
  'else',
  'keepArray',
  'consarray',
  'keepSingletonArray',
]);

/** Largest AST (in nodes) evaluated inline; larger ones go to the pool. */
export const MAX_INLINE_NODES = 256;

/** A JSONata AST node, read loosely: the published typings miss `path`, `bind`, `sort` and others. */
type Node = { type?: string; value?: unknown; [key: string]: unknown };

/**
 * Classifies a parsed JSONata AST. The safe subset is:
 * - literals (strings, numbers, `true`/`false`/`null`), the context `$`, `$$` outside relative context,
 *   and the binding variables `$input`, `$steps`, `$event`, `$execution`, `$item`, `$index`;
 * - paths whose steps after the first are field names, `*`, or object/array constructors and blocks that
 *   themselves stay in the subset; filters `[...]` of the same kind;
 * - object `{...}` and array `[...]` constructors, unary minus, conditionals `a ? b : c`, blocks `( ... )`
 *   without bindings, and the operators `+ - * / % = != < <= > >= and or & in`.
 * Inside a path step or filter (relative context) no variable other than `$` may appear, so a step cannot
 * re-read a whole binding per item (no cross products). Everything else — function calls, lambdas,
 * `:=`, `~>`, regexes, ranges `..`, sorting `^()`, grouping `{}` after a path, `%` parent, `#`/`@` tuple
 * bindings, `**` descendants, transforms — and any AST over {@link MAX_INLINE_NODES} nodes goes to the pool.
 */
export function classifyAst(ast: jsonata.ExprNode): ExpressionPlacement {
  return analyzeAst(ast).placement;
}

/**
 * {@link classifyAst} plus the size of the AST in nodes (counted up to the first unsafe node). For an
 * inline expression, `nodes` x (bindings size) bounds both its work and its result size.
 */
export function analyzeAst(ast: jsonata.ExprNode): { placement: ExpressionPlacement; nodes: number } {
  const budget = { nodes: 0 };
  const safe = isSafe(ast as unknown as Node, false, budget);
  return { placement: safe ? 'inline' : 'pool', nodes: budget.nodes };
}

function isSafe(node: Node | undefined, relative: boolean, budget: { nodes: number }): boolean {
  if (node === undefined || node === null || typeof node !== 'object') return false;
  budget.nodes += 1;
  if (budget.nodes > MAX_INLINE_NODES) return false;
  for (const key of Object.keys(node)) {
    if (!KNOWN_KEYS.has(key)) return false;
  }
  if (node.predicate !== undefined && !filtersSafe(node.predicate, budget)) return false;
  if (node.stages !== undefined && !filtersSafe(node.stages, budget)) return false;

  switch (node.type) {
    case 'string':
    case 'number':
    case 'value':
    case 'name':
    case 'wildcard':
      return true;
    case 'variable':
      return variableSafe(node.value, relative);
    case 'path': {
      const steps = node.steps as Node[] | undefined;
      if (!Array.isArray(steps) || steps.length === 0) return false;
      return steps.every((step, i) => {
        const stepRelative = relative || i > 0;
        if (i > 0 && step.type === 'variable' && step.value !== '') return false;
        return isSafe(step, stepRelative, budget);
      });
    }
    case 'binary':
      return (
        typeof node.value === 'string' &&
        SAFE_BINARY.has(node.value) &&
        isSafe(node.lhs as Node, relative, budget) &&
        isSafe(node.rhs as Node, relative, budget)
      );
    case 'unary':
      if (node.value === '-') return isSafe(node.expression as Node, relative, budget);
      if (node.value === '[') return everySafe(node.expressions as Node[] | undefined, relative, budget);
      if (node.value === '{') {
        const pairs = node.lhs;
        if (!Array.isArray(pairs)) return false;
        return pairs.every(
          (pair: unknown) =>
            Array.isArray(pair) &&
            pair.length === 2 &&
            isSafe(pair[0] as Node, relative, budget) &&
            isSafe(pair[1] as Node, relative, budget),
        );
      }
      return false;
    case 'condition':
      return (
        isSafe(node.condition as Node, relative, budget) &&
        isSafe(node.then as Node, relative, budget) &&
        (node.else === undefined || isSafe(node.else as Node, relative, budget))
      );
    case 'block':
      return everySafe(node.expressions as Node[] | undefined, relative, budget);
    default:
      return false;
  }
}

function variableSafe(name: unknown, relative: boolean): boolean {
  if (name === '') return true; // `$`, the context item
  if (relative) return false;
  return name === '$' || (typeof name === 'string' && BINDINGS.has(name));
}

function everySafe(nodes: Node[] | undefined, relative: boolean, budget: { nodes: number }): boolean {
  return Array.isArray(nodes) && nodes.every((n) => isSafe(n, relative, budget));
}

function filtersSafe(stages: unknown, budget: { nodes: number }): boolean {
  if (!Array.isArray(stages)) return false;
  return stages.every((stage: unknown) => {
    if (typeof stage !== 'object' || stage === null) return false;
    const s = stage as { type?: unknown; expr?: unknown; position?: unknown };
    const keys = Object.keys(s).filter((k) => k !== 'position');
    if (s.type !== 'filter' || keys.some((k) => k !== 'type' && k !== 'expr')) return false;
    return isSafe(s.expr as Node, true, budget);
  });
}
