import {
  BatonError,
  ErrorCode,
  JoinMode,
  StepStatus,
  StepType,
  isFinishedStepStatus,
} from '@baton/contracts';
import type { StepDefinition, WorkflowDefinition } from '@baton/contracts';

/** What the DAG functions need to know about one step of an execution. */
export interface StepView {
  status: StepStatus;
  /** For a COMPLETED decision step: its outcome (the `decisions` argument of evaluateDag takes precedence). */
  outcome?: string;
}

/** The result of {@link evaluateDag}: step ids in topological (then definition) order. */
export interface DagEvaluation {
  /** PENDING steps whose dependencies are satisfied now: schedule them. */
  ready: string[];
  /** PENDING steps that can never run: mark them SKIPPED (already propagated to a fixpoint). */
  skip: string[];
}

interface DagIndex {
  order: StepDefinition[];
  byId: Map<string, StepDefinition>;
  /** decision id -> every step named in any of its branches. */
  branchTargets: Map<string, Set<string>>;
}

/** A dependency's status as its dependent sees it; `UNDECIDED` = a completed decision with no outcome given. */
type EdgeStatus = StepStatus | 'UNDECIDED';

const indexes = new WeakMap<WorkflowDefinition, DagIndex>();

/**
 * The steps a decision runs for `outcome`: `branches[outcome]` if present, else `branches.default` if
 * present, else none.
 */
export function branchTargetsFor(decision: StepDefinition, outcome: string): string[] {
  const branches = decision.branches ?? {};
  if (Object.prototype.hasOwnProperty.call(branches, outcome)) return [...(branches[outcome] ?? [])];
  if (Object.prototype.hasOwnProperty.call(branches, 'default')) return [...(branches.default ?? [])];
  return [];
}

/** Steps without dependencies, in definition order: they are ready when an execution starts. */
export function rootSteps(def: WorkflowDefinition): string[] {
  return def.steps.filter((s) => (s.dependencies ?? []).length === 0).map((s) => s.id);
}

/**
 * Step ids in an order where every step comes after its dependencies; among steps free to go next, the one
 * defined first goes first (stable). Throws VALIDATION_FAILED (rule `cycle` / `unknownDependency`) for a
 * definition that `validateDefinition` would reject.
 */
export function topologicalOrder(def: WorkflowDefinition): string[] {
  return indexOf(def).order.map((s) => s.id);
}

/**
 * Whether every step of the definition is finished: COMPLETED, SKIPPED, FAILED or COMPENSATED (a step absent
 * from `steps` is PENDING). Whether a FAILED step fails the execution is the caller's policy.
 */
export function isExecutionComplete(def: WorkflowDefinition, steps: Record<string, StepView>): boolean {
  return def.steps.every((s) => {
    const view = steps[s.id];
    return view !== undefined && isFinishedStepStatus(view.status);
  });
}

/**
 * Which PENDING steps become ready now and which must be SKIPPED now (CONTRACT §3.2). Pure: it reads the
 * statuses and returns decisions; the caller applies them. A step absent from `steps` counts as PENDING.
 *
 * Edges. A dependent sees each dependency's status, except for a branch edge: when a COMPLETED decision D
 * has outcome O (from `decisions[D]`, else `steps[D].outcome`), a step named in any of D's branches sees D as
 * COMPLETED if it is among {@link branchTargetsFor}(D, O), and as SKIPPED otherwise (branch not taken).
 * While a completed decision's outcome is unknown, its branch targets see it as unfinished and wait.
 * Steps that depend on D without being named in its branches see D's own status (they run on every outcome).
 *
 * Join `all` (default): ready when every dependency is COMPLETED; SKIPPED as soon as any dependency is
 * SKIPPED — even while others are unfinished, since the step can then never run.
 * Join `any`: ready when at least one dependency is COMPLETED and none is PENDING, SCHEDULED, RUNNING (or
 * undecided); SKIPPED when every dependency is SKIPPED.
 * A FAILED or COMPENSATED dependency never counts as completed nor skipped: a join-all step stays PENDING
 * (the caller's failure handling decides); a join-any step can still run on its completed dependencies. To
 * continue past a failed step, present it here as COMPLETED (dependents run) or SKIPPED (dependents skip).
 * A step without dependencies is ready while PENDING.
 *
 * Skipping propagates: steps are judged in topological order against the statuses including the skips
 * decided earlier in the same call, so `skip` is the full fixpoint and `ready` accounts for it (a join-any
 * step whose last unfinished dependency is skipped now is ready now). Calling again after applying the
 * result yields no new skips.
 */
export function evaluateDag(
  def: WorkflowDefinition,
  steps: Record<string, StepView>,
  decisions: Record<string, string> = {},
): DagEvaluation {
  const index = indexOf(def);
  const status = new Map<string, StepStatus>();
  for (const s of index.order) status.set(s.id, steps[s.id]?.status ?? StepStatus.PENDING);

  const outcomeOf = (id: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(decisions, id) ? decisions[id] : steps[id]?.outcome;

  const edge = (dep: string, dependent: string): EdgeStatus => {
    const st = status.get(dep) ?? StepStatus.PENDING;
    if (st !== StepStatus.COMPLETED) return st;
    const targets = index.branchTargets.get(dep);
    if (targets === undefined || !targets.has(dependent)) return st;
    const outcome = outcomeOf(dep);
    if (outcome === undefined) return 'UNDECIDED';
    const decision = index.byId.get(dep) as StepDefinition;
    return branchTargetsFor(decision, outcome).includes(dependent)
      ? StepStatus.COMPLETED
      : StepStatus.SKIPPED;
  };

  const ready: string[] = [];
  const skip: string[] = [];
  for (const step of index.order) {
    if (status.get(step.id) !== StepStatus.PENDING) continue;
    const deps = step.dependencies ?? [];
    if (deps.length === 0) {
      ready.push(step.id);
      continue;
    }
    const seen = deps.map((d) => edge(d, step.id));
    const verdict = (step.join ?? JoinMode.ALL) === JoinMode.ANY ? judgeAny(seen) : judgeAll(seen);
    if (verdict === 'skip') {
      status.set(step.id, StepStatus.SKIPPED);
      skip.push(step.id);
    } else if (verdict === 'ready') {
      ready.push(step.id);
    }
  }
  return { ready, skip };
}

function judgeAll(seen: EdgeStatus[]): 'ready' | 'skip' | 'wait' {
  if (seen.some((s) => s === StepStatus.SKIPPED)) return 'skip';
  if (seen.every((s) => s === StepStatus.COMPLETED)) return 'ready';
  return 'wait';
}

function judgeAny(seen: EdgeStatus[]): 'ready' | 'skip' | 'wait' {
  if (seen.every((s) => s === StepStatus.SKIPPED)) return 'skip';
  const unfinished = seen.some(
    (s) =>
      s === StepStatus.PENDING || s === StepStatus.SCHEDULED || s === StepStatus.RUNNING || s === 'UNDECIDED',
  );
  if (!unfinished && seen.some((s) => s === StepStatus.COMPLETED)) return 'ready';
  return 'wait';
}

function indexOf(def: WorkflowDefinition): DagIndex {
  const cached = indexes.get(def);
  if (cached) return cached;
  const byId = new Map<string, StepDefinition>();
  for (const s of def.steps) {
    if (byId.has(s.id)) throw dagError(`duplicate step id '${s.id}'`, 'duplicateStepId');
    byId.set(s.id, s);
  }
  const branchTargets = new Map<string, Set<string>>();
  for (const s of def.steps) {
    if (s.type === StepType.DECISION && s.branches) {
      branchTargets.set(s.id, new Set(Object.values(s.branches).flat()));
    }
  }
  const index: DagIndex = { order: sortTopologically(def.steps, byId), byId, branchTargets };
  indexes.set(def, index);
  return index;
}

/** Kahn's algorithm; among free steps the earliest defined goes first. */
function sortTopologically(steps: StepDefinition[], byId: Map<string, StepDefinition>): StepDefinition[] {
  const position = new Map(steps.map((s, i) => [s.id, i]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const s of steps) {
    const deps = [...new Set(s.dependencies ?? [])];
    for (const d of deps) {
      if (!byId.has(d)) throw dagError(`step '${s.id}' depends on unknown step '${d}'`, 'unknownDependency');
      const list = dependents.get(d);
      if (list) list.push(s.id);
      else dependents.set(d, [s.id]);
    }
    waiting.set(s.id, deps.length);
  }
  const free = steps.filter((s) => waiting.get(s.id) === 0).map((s) => s.id);
  const order: StepDefinition[] = [];
  while (free.length > 0) {
    let best = 0;
    for (let i = 1; i < free.length; i++) {
      if ((position.get(free[i]) ?? 0) < (position.get(free[best]) ?? 0)) best = i;
    }
    const id = free.splice(best, 1)[0];
    order.push(byId.get(id) as StepDefinition);
    for (const next of dependents.get(id) ?? []) {
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) free.push(next);
    }
  }
  if (order.length !== steps.length) {
    const stuck = steps.filter((s) => (waiting.get(s.id) ?? 0) > 0).map((s) => s.id);
    throw dagError(`steps form a dependency cycle: ${stuck.join(', ')}`, 'cycle');
  }
  return order;
}

function dagError(message: string, rule: string): BatonError {
  return new BatonError(ErrorCode.VALIDATION_FAILED, message, {
    retryable: false,
    details: [{ path: '/steps', message, rule }],
  });
}
