import { StepStatus, isBatonError } from '@baton/contracts';
import type { StepDefinition, WorkflowDefinition } from '@baton/contracts';

import { parseDefinitionText } from '../definition/definition.parser';
import { EXAMPLE_YAML } from '../../test/example-definition';
import { branchTargetsFor, evaluateDag, isExecutionComplete, rootSteps, topologicalOrder } from './dag';
import type { StepView } from './dag';

const { PENDING, SCHEDULED, RUNNING, COMPLETED, FAILED, SKIPPED, COMPENSATED } = StepStatus;

function task(id: string, dependencies: string[] = [], extra: Partial<StepDefinition> = {}): StepDefinition {
  return { id, type: 'task', action: `svc.${id}`, dependencies, ...extra };
}

function workflow(...steps: StepDefinition[]): WorkflowDefinition {
  return { id: 'wf', version: 1, steps };
}

function views(statuses: Record<string, StepStatus>): Record<string, StepView> {
  return Object.fromEntries(Object.entries(statuses).map(([id, status]) => [id, { status }]));
}

/**
 * Drives a definition to its end like an orchestrator would: apply skips, complete every ready step
 * (decisions with the outcome given), repeat. Returns the final statuses.
 */
function run(def: WorkflowDefinition, outcomes: Record<string, string> = {}): Record<string, StepStatus> {
  const state: Record<string, StepView> = {};
  for (let round = 0; round < 100; round++) {
    const { ready, skip } = evaluateDag(def, state, outcomes);
    if (ready.length === 0 && skip.length === 0) break;
    for (const id of skip) state[id] = { status: SKIPPED };
    for (const id of ready) state[id] = { status: COMPLETED };
  }
  return Object.fromEntries(Object.entries(state).map(([id, v]) => [id, v.status]));
}

describe('rootSteps and topologicalOrder', () => {
  const def = workflow(task('c', ['a', 'b']), task('a'), task('d', ['c']), task('b'), task('e', ['a']));

  it('lists steps without dependencies in definition order', () => {
    expect(rootSteps(def)).toEqual(['a', 'b']);
  });

  it('orders dependencies first, otherwise by definition order', () => {
    expect(topologicalOrder(def)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('rejects cycles and unknown dependencies with VALIDATION_FAILED', () => {
    for (const bad of [workflow(task('a', ['b']), task('b', ['a'])), workflow(task('a', ['zz']))]) {
      let caught: unknown;
      try {
        topologicalOrder(bad);
      } catch (err) {
        caught = err;
      }
      expect(isBatonError(caught) && caught.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('evaluateDag', () => {
  it('makes root steps ready at start, and only PENDING ones', () => {
    const def = workflow(task('a'), task('b'), task('c', ['a']));
    expect(evaluateDag(def, {})).toEqual({ ready: ['a', 'b'], skip: [] });
    expect(evaluateDag(def, views({ a: RUNNING, b: SCHEDULED }))).toEqual({ ready: [], skip: [] });
  });

  describe('join all', () => {
    const def = workflow(task('a'), task('b'), task('c', ['a', 'b']));

    it('is ready only when every dependency is COMPLETED', () => {
      expect(evaluateDag(def, views({ a: COMPLETED, b: RUNNING })).ready).toEqual([]);
      expect(evaluateDag(def, views({ a: COMPLETED, b: COMPLETED })).ready).toEqual(['c']);
    });

    it('is skipped as soon as any dependency is SKIPPED, even while another is unfinished', () => {
      expect(evaluateDag(def, views({ a: SKIPPED, b: RUNNING }))).toEqual({ ready: [], skip: ['c'] });
    });

    it('waits on a FAILED or COMPENSATED dependency (failure handling decides)', () => {
      expect(evaluateDag(def, views({ a: COMPLETED, b: FAILED }))).toEqual({ ready: [], skip: [] });
      expect(evaluateDag(def, views({ a: COMPLETED, b: COMPENSATED }))).toEqual({ ready: [], skip: [] });
    });
  });

  describe('join any', () => {
    const def = workflow(task('a'), task('b'), task('c', ['a', 'b'], { join: 'any' }));

    it('is ready when one dependency COMPLETED and none is still pending, scheduled or running', () => {
      for (const other of [PENDING, SCHEDULED, RUNNING]) {
        expect(evaluateDag(def, views({ a: COMPLETED, b: other })).ready).not.toContain('c');
      }
      expect(evaluateDag(def, views({ a: COMPLETED, b: SKIPPED })).ready).toEqual(['c']);
      expect(evaluateDag(def, views({ a: COMPLETED, b: FAILED })).ready).toEqual(['c']);
      expect(evaluateDag(def, views({ a: COMPLETED, b: COMPLETED })).ready).toEqual(['c']);
    });

    it('is skipped only when every dependency is SKIPPED', () => {
      expect(evaluateDag(def, views({ a: SKIPPED, b: RUNNING }))).toEqual({ ready: [], skip: [] });
      expect(evaluateDag(def, views({ a: SKIPPED, b: SKIPPED }))).toEqual({ ready: [], skip: ['c'] });
    });

    it('waits when nothing completed and not everything was skipped', () => {
      expect(evaluateDag(def, views({ a: FAILED, b: SKIPPED }))).toEqual({ ready: [], skip: [] });
    });
  });

  it('fans out and joins', () => {
    const def = workflow(
      task('start'),
      task('x', ['start']),
      task('y', ['start']),
      task('z', ['start']),
      task('join', ['x', 'y', 'z']),
    );
    expect(evaluateDag(def, views({ start: COMPLETED })).ready).toEqual(['x', 'y', 'z']);
    expect(
      evaluateDag(def, views({ start: COMPLETED, x: COMPLETED, y: COMPLETED, z: RUNNING })).ready,
    ).toEqual([]);
    expect(
      evaluateDag(def, views({ start: COMPLETED, x: COMPLETED, y: COMPLETED, z: COMPLETED })).ready,
    ).toEqual(['join']);
    expect(run(def)).toEqual({ start: COMPLETED, x: COMPLETED, y: COMPLETED, z: COMPLETED, join: COMPLETED });
  });

  describe('decisions', () => {
    const decision = (branches: Record<string, string[]>): WorkflowDefinition =>
      workflow(
        { id: 'd', type: 'decision', action: 'cat', branches },
        task('yes', ['d']),
        task('no', ['d']),
        task('after-yes', ['yes']),
        task('after-no', ['no']),
        task('always', ['d']),
        task('end', ['after-yes', 'after-no'], { join: 'any' }),
      );

    it('runs the taken branch and skips the others, propagating through their descendants', () => {
      const def = decision({ approve: ['yes'], reject: ['no'] });
      const first = evaluateDag(def, views({ d: COMPLETED }), { d: 'reject' });
      expect(first).toEqual({ ready: ['no', 'always'], skip: ['yes', 'after-yes'] });
      expect(run(def, { d: 'approve' })).toEqual({
        d: COMPLETED,
        yes: COMPLETED,
        'after-yes': COMPLETED,
        no: SKIPPED,
        'after-no': SKIPPED,
        always: COMPLETED,
        end: COMPLETED,
      });
    });

    it('falls back to the default branch', () => {
      const def = decision({ approve: ['yes'], default: ['no'] });
      expect(evaluateDag(def, views({ d: COMPLETED }), { d: 'unheard-of' })).toEqual({
        ready: ['no', 'always'],
        skip: ['yes', 'after-yes'],
      });
    });

    it('skips every target when the outcome has no branch and there is no default', () => {
      const def = decision({ approve: ['yes'], reject: ['no'] });
      const result = evaluateDag(def, views({ d: COMPLETED }), { d: 'maybe' });
      expect(result).toEqual({ ready: ['always'], skip: ['yes', 'no', 'after-yes', 'after-no', 'end'] });
      expect(run(def, { d: 'maybe' })).toMatchObject({ end: SKIPPED, always: COMPLETED });
    });

    it('holds branch targets while the outcome of a completed decision is unknown', () => {
      const def = decision({ approve: ['yes'], reject: ['no'] });
      expect(evaluateDag(def, views({ d: COMPLETED }))).toEqual({ ready: ['always'], skip: [] });
    });

    it('reads the outcome from the step view too; the decisions argument wins', () => {
      const def = decision({ approve: ['yes'], reject: ['no'] });
      const steps = { d: { status: COMPLETED, outcome: 'approve' } };
      expect(evaluateDag(def, steps).ready).toEqual(['yes', 'always']);
      expect(evaluateDag(def, steps, { d: 'reject' }).ready).toEqual(['no', 'always']);
    });

    it('skips the targets of a skipped decision', () => {
      const def = workflow(
        task('a'),
        { id: 'd', type: 'decision', action: 'cat', dependencies: ['a'], branches: { go: ['t'] } },
        task('t', ['d']),
      );
      expect(evaluateDag(def, views({ a: SKIPPED }))).toEqual({ ready: [], skip: ['d', 't'] });
    });

    it('runs the CONTRACT example on both outcomes (join any after a branch)', () => {
      const def = parseDefinitionText(EXAMPLE_YAML) as WorkflowDefinition;
      const approved = run(def, { fraud: 'approve' });
      expect(approved['manual-review']).toBe(SKIPPED);
      expect(approved.charge).toBe(COMPLETED);
      expect(approved.announce).toBe(COMPLETED);

      // On review, charge waits for the manual review instead of being skipped with the untaken edge.
      const state = views({ reserve: COMPLETED, fraud: COMPLETED });
      expect(evaluateDag(def, state, { fraud: 'review' })).toEqual({ ready: ['manual-review'], skip: [] });
      state['manual-review'] = { status: RUNNING };
      expect(evaluateDag(def, state, { fraud: 'review' })).toEqual({ ready: [], skip: [] });
      state['manual-review'] = { status: COMPLETED };
      expect(evaluateDag(def, state, { fraud: 'review' })).toEqual({ ready: ['charge'], skip: [] });
      expect(run(def, { fraud: 'review' })).toMatchObject({
        'manual-review': COMPLETED,
        charge: COMPLETED,
        announce: COMPLETED,
      });
    });
  });

  it('returns the skip fixpoint in one call and readiness that depends on it', () => {
    const def = workflow(
      task('a'),
      task('b', ['a']),
      task('c', ['b']),
      task('d', ['c']),
      task('e'),
      task('f', ['d', 'e'], { join: 'any' }),
    );
    const result = evaluateDag(def, views({ a: SKIPPED, e: COMPLETED }));
    expect(result).toEqual({ ready: ['f'], skip: ['b', 'c', 'd'] });
    const applied = views({ a: SKIPPED, e: COMPLETED, b: SKIPPED, c: SKIPPED, d: SKIPPED });
    expect(evaluateDag(def, applied)).toEqual({ ready: ['f'], skip: [] });
  });
});

describe('isExecutionComplete', () => {
  const def = workflow(task('a'), task('b', ['a']));

  it('is true when every step is COMPLETED, SKIPPED, FAILED or COMPENSATED', () => {
    expect(isExecutionComplete(def, views({ a: COMPLETED, b: SKIPPED }))).toBe(true);
    expect(isExecutionComplete(def, views({ a: FAILED, b: COMPENSATED }))).toBe(true);
  });

  it('is false while a step is unfinished or unknown', () => {
    expect(isExecutionComplete(def, views({ a: COMPLETED }))).toBe(false);
    expect(isExecutionComplete(def, views({ a: COMPLETED, b: RUNNING }))).toBe(false);
    expect(isExecutionComplete(def, views({ a: COMPLETED, b: PENDING }))).toBe(false);
  });
});

describe('branchTargetsFor', () => {
  const d: StepDefinition = {
    id: 'd',
    type: 'decision',
    action: 'c',
    branches: { a: ['x'], default: ['y'] },
  };

  it('uses the outcome, then default, then nothing', () => {
    expect(branchTargetsFor(d, 'a')).toEqual(['x']);
    expect(branchTargetsFor(d, 'zzz')).toEqual(['y']);
    expect(branchTargetsFor({ ...d, branches: { a: ['x'] } }, 'zzz')).toEqual([]);
    expect(branchTargetsFor(d, 'toString')).toEqual(['y']);
  });
});
