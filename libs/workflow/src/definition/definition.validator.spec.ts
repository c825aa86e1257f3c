import type { ErrorDetail, WorkflowDefinition } from '@baton/contracts';

import { parseDefinitionText } from './definition.parser';
import { validateDefinition } from './definition.validator';
import { EXAMPLE_YAML, minimalDefinition } from '../../test/example-definition';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests build broken documents freely
type Mutable = Record<string, any>;

/** A copy of the minimal definition changed by `edit`. */
function variant(edit: (def: Mutable) => void): unknown {
  const def = structuredClone(minimalDefinition()) as Mutable;
  edit(def);
  return def;
}

function errorsOf(input: unknown): ErrorDetail[] {
  const result = validateDefinition(input);
  if (result.ok) throw new Error('expected the definition to be rejected');
  return result.errors;
}

/** Asserts that the problems include one with this path and rule. */
function expectProblem(input: unknown, path: string, rule: string): ErrorDetail {
  const errors = errorsOf(input);
  const hit = errors.find((e) => e.path === path && e.rule === rule);
  if (!hit) throw new Error(`no ${rule} at ${path}; got ${JSON.stringify(errors, null, 2)}`);
  return hit;
}

describe('validateDefinition', () => {
  it('accepts the CONTRACT example and returns a copy', () => {
    const parsed = parseDefinitionText(EXAMPLE_YAML, 'application/yaml');
    const result = validateDefinition(parsed);
    if (!result.ok) throw new Error(JSON.stringify(result.errors, null, 2));
    expect(result.definition).toEqual(parsed);
    expect(result.definition).not.toBe(parsed);
    expect(result.definition.steps.map((s) => s.id)).toEqual([
      'reserve',
      'fraud',
      'manual-review',
      'charge',
      'pack-items',
      'ship',
      'cool-off',
      'announce',
    ]);
  });

  it('accepts the minimal definition', () => {
    expect(validateDefinition(minimalDefinition()).ok).toBe(true);
  });

  describe('shape', () => {
    it('requires an object', () => {
      expect(errorsOf('nope')).toEqual([{ path: '', rule: 'type', message: 'must be object' }]);
    });

    it.each(['id', 'version', 'steps'])('requires %s', (field) => {
      const err = expectProblem(
        variant((d) => delete d[field]),
        `/${field}`,
        'required',
      );
      expect(err.message).toContain(field);
    });

    it('requires step id and type', () => {
      expectProblem(
        variant((d) => delete d.steps[0].id),
        '/steps/0/id',
        'required',
      );
      expectProblem(
        variant((d) => delete d.steps[0].type),
        '/steps/0/type',
        'required',
      );
    });

    it.each([
      ['Upper', '/id'],
      ['-lead', '/id'],
      ['x'.repeat(129), '/id'],
      ['has space', '/id'],
    ])('rejects workflow id %j', (id) => {
      expectProblem(
        variant((d) => (d.id = id)),
        '/id',
        'workflowId',
      );
    });

    it.each([0, -1, 1.5, '1'])('rejects version %j', (version) => {
      const errors = errorsOf(variant((d) => (d.version = version)));
      expect(errors.some((e) => e.path === '/version')).toBe(true);
    });

    it('rejects a bad step id', () => {
      expectProblem(
        variant((d) => (d.steps[0].id = '9lives')),
        '/steps/0/id',
        'stepId',
      );
      expectProblem(
        variant((d) => (d.steps[0].id = 'a'.repeat(129))),
        '/steps/0/id',
        'stepId',
      );
    });

    it('rejects an unknown step type', () => {
      expectProblem(
        variant((d) => (d.steps[0].type = 'lambda')),
        '/steps/0/type',
        'enum',
      );
    });

    it('rejects unknown top-level and step fields', () => {
      const err = expectProblem(
        variant((d) => (d.colour = 'blue')),
        '/colour',
        'unknownField',
      );
      expect(err.message).toBe("unknown field 'colour'");
      expectProblem(
        variant((d) => (d.steps[1].dependsOn = ['a'])),
        '/steps/1/dependsOn',
        'unknownField',
      );
      expectProblem(
        variant((d) => (d.steps[0].retryPolicy = { attempts: 3 })),
        '/steps/0/retryPolicy/attempts',
        'unknownField',
      );
    });

    it('rejects fields that do not belong to the step type', () => {
      const err = expectProblem(
        variant((d) => (d.steps[0].branches = { yes: ['b'] })),
        '/steps/0/branches',
        'unknownField',
      );
      expect(err.message).toBe("field 'branches' is not allowed on a task step");
      expectProblem(
        variant(
          (d) =>
            (d.steps[1] = {
              id: 'b',
              type: 'wait',
              parameters: { seconds: 5 },
              timeoutSeconds: 3,
              dependencies: ['a'],
            }),
        ),
        '/steps/1/timeoutSeconds',
        'unknownField',
      );
    });

    it.each([
      ['maxAttempts', 0],
      ['maxAttempts', 101],
      ['maxAttempts', 2.5],
      ['initialIntervalMs', -1],
      ['maxIntervalMs', -5],
      ['backoffCoefficient', 0.5],
    ])('rejects retryPolicy.%s = %j', (field, value) => {
      const errors = errorsOf(variant((d) => (d.steps[0].retryPolicy = { [field]: value })));
      expect(errors.map((e) => e.path)).toContain(`/steps/0/retryPolicy/${field}`);
    });

    it('rejects a maximum interval below the initial one', () => {
      expectProblem(
        variant((d) => (d.steps[0].retryPolicy = { initialIntervalMs: 500, maxIntervalMs: 100 })),
        '/steps/0/retryPolicy/maxIntervalMs',
        'retryPolicy',
      );
    });

    it.each([0, -3])('rejects timeoutSeconds %j', (t) => {
      expectProblem(
        variant((d) => (d.steps[0].timeoutSeconds = t)),
        '/steps/0/timeoutSeconds',
        'range',
      );
    });

    it('limits steps, dependencies and triggers', () => {
      const many = Array.from({ length: 501 }, (_, i) => ({ id: `s${i}`, type: 'task', action: 'svc.x' }));
      expectProblem(
        variant((d) => (d.steps = many)),
        '/steps',
        'limit',
      );
      const deps = Array.from({ length: 101 }, (_, i) => `s${i}`);
      expectProblem(
        variant((d) => (d.steps[1].dependencies = deps)),
        '/steps/1/dependencies',
        'limit',
      );
      const triggers = Array.from({ length: 21 }, () => ({ type: 'event', subject: 'events.x' }));
      expectProblem(
        variant((d) => (d.triggers = triggers)),
        '/triggers',
        'limit',
      );
    });

    it('rejects an empty step list', () => {
      expectProblem(
        variant((d) => (d.steps = [])),
        '/steps',
        'limit',
      );
    });

    it('rejects a repeated dependency', () => {
      expectProblem(
        variant((d) => (d.steps[1].dependencies = ['a', 'a'])),
        '/steps/1/dependencies',
        'duplicate',
      );
    });

    it('rejects a document nested too deeply', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = { x: deep };
      expect(errorsOf(variant((d) => (d.steps[0].parameters = { deep })))).toEqual([
        { path: '', rule: 'maxDepth', message: 'nests deeper than 32 levels' },
      ]);
    });
  });

  describe('step types', () => {
    it('task and parallel need a valid action', () => {
      expectProblem(
        variant((d) => delete d.steps[0].action),
        '/steps/0/action',
        'required',
      );
      for (const action of ['svc..x', 'svc.x_y', 'svc x', '.svc', 'a'.repeat(97)]) {
        expectProblem(
          variant((d) => (d.steps[0].action = action)),
          '/steps/0/action',
          'action',
        );
      }
      expectProblem(
        variant((d) => (d.steps[0].compensation = { action: 'not valid' })),
        '/steps/0/compensation/action',
        'action',
      );
    });

    it('parallel needs parameters.items and a bounded maxConcurrency', () => {
      const parallel = (parameters: unknown) =>
        variant((d) => (d.steps[0] = { id: 'a', type: 'parallel', action: 'svc.p', parameters }));
      expect(validateDefinition(parallel({ items: '{% $input.items %}', maxConcurrency: 10 })).ok).toBe(true);
      expect(validateDefinition(parallel({ items: [1, 2, 3] })).ok).toBe(true);
      expectProblem(parallel({ maxConcurrency: 3 }), '/steps/0/parameters/items', 'required');
      expectProblem(parallel({ items: 'abc' }), '/steps/0/parameters/items', 'parallelItems');
      expectProblem(
        parallel({ items: [], maxConcurrency: 0 }),
        '/steps/0/parameters/maxConcurrency',
        'range',
      );
      expectProblem(
        parallel({ items: [], maxConcurrency: 1001 }),
        '/steps/0/parameters/maxConcurrency',
        'range',
      );
      expectProblem(
        variant((d) => (d.steps[0] = { id: 'a', type: 'parallel', action: 'svc.p' })),
        '/steps/0/parameters',
        'required',
      );
    });

    it('subworkflow needs a workflow id as action', () => {
      const sub = (action: string | undefined) =>
        variant((d) => (d.steps[0] = { id: 'a', type: 'subworkflow', ...(action ? { action } : {}) }));
      expect(validateDefinition(sub('shipping')).ok).toBe(true);
      expectProblem(sub(undefined), '/steps/0/action', 'required');
      expectProblem(sub('Shipping.Flow'), '/steps/0/action', 'subworkflowAction');
      expectProblem(
        variant(
          (d) => (d.steps[0] = { id: 'a', type: 'subworkflow', action: 'x', parameters: { version: 0 } }),
        ),
        '/steps/0/parameters/version',
        'range',
      );
    });

    it('decision needs a rule category and non-empty branches', () => {
      const decision = (extra: Mutable) =>
        variant(
          (d) =>
            (d.steps[0] = {
              id: 'a',
              type: 'decision',
              action: 'fraud-policy',
              branches: { yes: ['b'] },
              ...extra,
            }),
        );
      expect(validateDefinition(decision({})).ok).toBe(true);
      expectProblem(decision({ action: undefined }), '/steps/0/action', 'required');
      expectProblem(decision({ action: 'bad category!' }), '/steps/0/action', 'decisionAction');
      expectProblem(decision({ branches: undefined }), '/steps/0/branches', 'required');
      expectProblem(decision({ branches: {} }), '/steps/0/branches', 'branches');
    });

    it('every branch target exists and depends on the decision', () => {
      const def = variant((d) => {
        d.steps = [
          { id: 'd', type: 'decision', action: 'cat', branches: { yes: ['a'], no: ['ghost', 'b'] } },
          { id: 'a', type: 'task', action: 'svc.a', dependencies: ['d'] },
          { id: 'b', type: 'task', action: 'svc.b' },
        ];
      });
      const unknown = expectProblem(def, '/steps/0/branches/no/0', 'branchTarget');
      expect(unknown.message).toContain("unknown step 'ghost'");
      const notDependent = expectProblem(def, '/steps/0/branches/no/1', 'branchTarget');
      expect(notDependent.message).toBe("step 'b' must list 'd' in its dependencies");
      expect(errorsOf(def)).toHaveLength(2);
    });

    describe('wait', () => {
      const wait = (parameters: unknown) =>
        variant((d) => (d.steps[1] = { id: 'b', type: 'wait', dependencies: ['a'], parameters }));

      it.each([
        { seconds: 5 },
        { seconds: '{% $input.delay %}' },
        { until: '2030-01-01T09:00:00Z' },
        { until: '2030-01-01T09:00:00.5+02:00' },
        { until: '{% $input.deadline %}' },
        { signal: 'reviewed', timeoutSeconds: 86400 },
        {
          event: 'events.payment.*',
          condition: { all: [{ fact: 'event', path: '$.orderId', operator: 'equal', value: 'o-1' }] },
          timeoutSeconds: 60,
        },
      ])('accepts %j', (parameters) => {
        const result = validateDefinition(wait(parameters));
        if (!result.ok) throw new Error(JSON.stringify(result.errors));
      });

      it('needs exactly one kind', () => {
        const none = expectProblem(wait({ timeoutSeconds: 5 }), '/steps/1/parameters', 'waitKind');
        expect(none.message).toContain('found: none');
        const two = expectProblem(wait({ seconds: 5, signal: 'x' }), '/steps/1/parameters', 'waitKind');
        expect(two.message).toContain('found: seconds, signal');
        expectProblem(wait({ signal: 'x', condition: {} }), '/steps/1/parameters/condition', 'waitKind');
        expectProblem(
          variant((d) => (d.steps[1] = { id: 'b', type: 'wait', dependencies: ['a'] })),
          '/steps/1/parameters',
          'required',
        );
      });

      it('checks each kind', () => {
        expectProblem(wait({ seconds: 0 }), '/steps/1/parameters/seconds', 'waitSeconds');
        expectProblem(wait({ seconds: 'soon' }), '/steps/1/parameters/seconds', 'waitSeconds');
        expectProblem(wait({ until: 'tomorrow' }), '/steps/1/parameters/until', 'waitUntil');
        expectProblem(wait({ until: '2030-01-01T09:00:00' }), '/steps/1/parameters/until', 'waitUntil');
        expectProblem(wait({ signal: 'has.dot' }), '/steps/1/parameters/signal', 'waitSignal');
        expectProblem(wait({ event: 'orders.created' }), '/steps/1/parameters/event', 'waitSubject');
        expectProblem(wait({ event: 'events.a.>.b' }), '/steps/1/parameters/event', 'waitSubject');
        expectProblem(
          wait({ signal: 'x', timeoutSeconds: -1 }),
          '/steps/1/parameters/timeoutSeconds',
          'range',
        );
        expectProblem(wait({ signal: 'x', other: 1 }), '/steps/1/parameters/other', 'unknownField');
      });
    });

    describe('emit', () => {
      const emit = (parameters: unknown) =>
        variant((d) => (d.steps[1] = { id: 'b', type: 'emit', dependencies: ['a'], parameters }));

      it('accepts a literal subject or an expression', () => {
        expect(validateDefinition(emit({ subject: 'events.order.done', payload: { a: 1 } })).ok).toBe(true);
        expect(
          validateDefinition(emit({ subject: "{% 'events.order.' & $input.kind %}", payload: null })).ok,
        ).toBe(true);
      });

      it('needs subject and payload, under events. and without wildcards', () => {
        expectProblem(emit({ payload: 1 }), '/steps/1/parameters/subject', 'required');
        expectProblem(emit({ subject: 'events.x' }), '/steps/1/parameters/payload', 'required');
        expectProblem(emit({ subject: 'baton.x', payload: 1 }), '/steps/1/parameters/subject', 'emitSubject');
        expectProblem(
          emit({ subject: 'events.*', payload: 1 }),
          '/steps/1/parameters/subject',
          'emitSubject',
        );
        expectProblem(emit({ subject: 'events', payload: 1 }), '/steps/1/parameters/subject', 'emitSubject');
      });
    });
  });

  describe('triggers', () => {
    const withTrigger = (trigger: unknown) => variant((d) => (d.triggers = [trigger]));

    it('accepts event and cron triggers', () => {
      for (const t of [
        { type: 'event', subject: 'events.>' },
        { type: 'event', subject: 'events.order.*', key: '{% $event.id %}', input: '{% $event %}' },
        { type: 'cron', expression: '0 */6 * * *', timezone: 'Europe/Berlin', overlap: 'skip' },
        { type: 'cron', expression: '30 0 9 * * 1-5' },
        { type: 'cron', expression: '@daily' },
      ]) {
        const result = validateDefinition(withTrigger(t));
        if (!result.ok) throw new Error(`${JSON.stringify(t)}: ${JSON.stringify(result.errors)}`);
      }
    });

    it('accepts a condition over the event and its subject, with the rule-engine operators', () => {
      const condition = {
        all: [
          { fact: 'event', path: '$.total', operator: 'between', value: [1, 100] },
          { fact: 'subject', operator: 'matches', value: '^events\\.order\\.' },
          { not: { fact: 'event', path: '$.country', operator: 'in', value: ['XX'] } },
        ],
      };
      const result = validateDefinition(withTrigger({ type: 'event', subject: 'events.order.*', condition }));
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
    });

    it('names every problem of a trigger condition by its path', () => {
      const def = withTrigger({
        type: 'event',
        subject: 'events.order.*',
        condition: {
          all: [
            { fact: 'event', path: '$.total', operator: 'greaterThanish', value: 1 },
            { fact: 'order', operator: 'equal', value: 1 },
            { fact: 'event', path: 'total', operator: 'equal', value: 1 },
            { any: [] },
          ],
        },
      });
      expectProblem(def, '/triggers/0/condition/all/0/operator', 'unknownOperator');
      expectProblem(def, '/triggers/0/condition/all/2/path', 'path');
      expectProblem(def, '/triggers/0/condition/all/3/any', 'nesting');
      expectProblem(
        withTrigger({
          type: 'event',
          subject: 'events.x',
          condition: { all: [{ fact: 'order', operator: 'equal', value: 1 }] },
        }),
        '/triggers/0/condition/all/0/fact',
        'unknownFact',
      );
      expectProblem(
        withTrigger({ type: 'event', subject: 'events.x', condition: { fact: 'event' } }),
        '/triggers/0/condition',
        'nesting',
      );
    });

    it('accepts expressions as the values of a wait condition, evaluated when the wait starts', () => {
      const def = variant(
        (d) =>
          (d.steps[1] = {
            id: 'b',
            type: 'wait',
            dependencies: ['a'],
            parameters: {
              event: 'events.x',
              condition: {
                all: [{ fact: 'event', path: '$.n', operator: 'greaterThan', value: '{% $input.n %}' }],
              },
            },
          }),
      );
      const result = validateDefinition(def);
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      expectProblem(
        withTrigger({
          type: 'event',
          subject: 'events.x',
          condition: {
            all: [{ fact: 'event', path: '$.n', operator: 'greaterThan', value: '{% $input.n %}' }],
          },
        }),
        '/triggers/0/condition/all/0/value',
        'type',
      );
    });

    it('checks the condition of a wait for an event the same way', () => {
      expectProblem(
        variant(
          (d) =>
            (d.steps[1] = {
              id: 'b',
              type: 'wait',
              dependencies: ['a'],
              parameters: {
                event: 'events.x',
                condition: { all: [{ fact: 'event', operator: 'near', value: 1 }] },
              },
            }),
        ),
        '/steps/1/parameters/condition/all/0/operator',
        'unknownOperator',
      );
    });

    it.each(['orders.created', 'events', 'events.>.x', 'events..x', '>'])('rejects subject %j', (subject) => {
      expectProblem(withTrigger({ type: 'event', subject }), '/triggers/0/subject', 'triggerSubject');
    });

    it('needs the fields of its type only', () => {
      expectProblem(withTrigger({ type: 'event' }), '/triggers/0/subject', 'required');
      expectProblem(withTrigger({ type: 'cron' }), '/triggers/0/expression', 'required');
      expectProblem(
        withTrigger({ type: 'cron', expression: '@daily', subject: 'events.x' }),
        '/triggers/0/subject',
        'unknownField',
      );
      expectProblem(withTrigger({ type: 'webhook' }), '/triggers/0/type', 'enum');
    });

    it.each(['61 * * * *', '* * * *', 'every day', '2030-01-01T00:00:00', '0 0 30 2 *'])(
      'rejects cron %j',
      (expression) => {
        expectProblem(withTrigger({ type: 'cron', expression }), '/triggers/0/expression', 'cron');
      },
    );

    it('rejects an unknown time zone', () => {
      const err = expectProblem(
        withTrigger({ type: 'cron', expression: '@hourly', timezone: 'Mars/Olympus' }),
        '/triggers/0/timezone',
        'timezone',
      );
      expect(err.message).toContain('Mars/Olympus');
    });

    it('needs an expression as key', () => {
      expectProblem(
        withTrigger({ type: 'event', subject: 'events.a', key: 'id' }),
        '/triggers/0/key',
        'expressionRequired',
      );
    });
  });

  describe('expressions', () => {
    it('checks the syntax of every expression in every place', () => {
      const def = variant((d) => {
        d.triggers = [
          { type: 'event', subject: 'events.a', input: { a: ['{% $event. %}'] }, key: '{% ( %}' },
        ];
        d.output = '{% $steps[ %}';
        d.steps[0].parameters = { nested: { list: ['ok', '{% 1 + %}'] }, fine: '{% $input.x %}' };
        d.steps[0].compensation = { action: 'svc.undo', parameters: { id: '{% $x := %}' } };
        d.queries = { progress: '{% $count( %}', plain: 'not an expression' };
      });
      const errors = errorsOf(def);
      const syntax = errors.filter((e) => e.rule === 'expressionSyntax').map((e) => e.path);
      expect(syntax.sort()).toEqual(
        [
          '/output',
          '/queries/progress',
          '/steps/0/compensation/parameters/id',
          '/steps/0/parameters/nested/list/1',
          '/triggers/0/input/a/0',
          '/triggers/0/key',
        ].sort(),
      );
      const one = errors.find((e) => e.path === '/steps/0/parameters/nested/list/1');
      expect(one?.message).toMatch(/^invalid JSONata at position \d+: .+/);
      expectProblem(def, '/queries/plain', 'expressionRequired');
    });

    it('treats strings that only contain {% %} as literals', () => {
      expect(validateDefinition(variant((d) => (d.steps[0].parameters = { text: 'say {% hi' }))).ok).toBe(
        true,
      );
    });
  });

  describe('graph', () => {
    it('rejects duplicate ids, unknown and self dependencies, and join without dependencies', () => {
      const def = variant((d) => {
        d.steps = [
          { id: 'a', type: 'task', action: 'svc.a', join: 'any' },
          { id: 'b', type: 'task', action: 'svc.b', dependencies: ['a', 'nope', 'b'] },
          { id: 'a', type: 'task', action: 'svc.c' },
        ];
      });
      const errors = errorsOf(def);
      expect(errors).toEqual(
        expect.arrayContaining([
          {
            path: '/steps/2/id',
            rule: 'duplicateStepId',
            message: "duplicate step id 'a' (first at /steps/0)",
          },
          { path: '/steps/1/dependencies/1', rule: 'unknownDependency', message: "unknown step 'nope'" },
          { path: '/steps/1/dependencies/2', rule: 'selfDependency', message: "step 'b' depends on itself" },
          {
            path: '/steps/0/join',
            rule: 'join',
            message: 'join applies only to a step with at least one dependency',
          },
        ]),
      );
      expect(errors).toHaveLength(4);
    });

    it('names each cycle', () => {
      const def = variant((d) => {
        d.steps = [
          { id: 'start', type: 'task', action: 'svc.s' },
          { id: 'a', type: 'task', action: 'svc.a', dependencies: ['start', 'c'] },
          { id: 'b', type: 'task', action: 'svc.b', dependencies: ['a'] },
          { id: 'c', type: 'task', action: 'svc.c', dependencies: ['b'] },
          { id: 'x', type: 'task', action: 'svc.x', dependencies: ['y'] },
          { id: 'y', type: 'task', action: 'svc.y', dependencies: ['x'] },
        ];
      });
      expect(errorsOf(def)).toEqual([
        {
          path: '/steps/1/dependencies',
          rule: 'cycle',
          message: 'dependency cycle: a -> b -> c -> a (each step waits for the one before it)',
        },
        {
          path: '/steps/4/dependencies',
          rule: 'cycle',
          message: 'dependency cycle: x -> y -> x (each step waits for the one before it)',
        },
      ]);
    });

    it('still checks the graph of well-formed steps while other parts are malformed', () => {
      const def = variant((d) => {
        d.unknown = true;
        d.steps[1].dependencies = ['ghost'];
        d.steps[0].action = 'bad action';
      });
      const rules = errorsOf(def).map((e) => e.rule);
      expect(rules).toEqual(expect.arrayContaining(['unknownField', 'action', 'unknownDependency']));
      expect(rules).toHaveLength(3);
    });

    it('checks cycles and duplicates even when a step lacks required fields', () => {
      const errors = errorsOf({
        id: 'x',
        version: 1,
        steps: [
          { id: 'a', type: 'task', dependencies: ['b'] },
          { id: 'b', type: 'task', action: 'q.r', dependencies: ['a'] },
          { id: 'b', type: 'task', action: 'q.r' },
          { id: 7, type: 'task', action: 'q.r' },
        ],
      });
      const rules = errors.map((e) => e.rule);
      expect(rules).toEqual(expect.arrayContaining(['required', 'cycle', 'duplicateStepId']));
    });
  });

  describe('routing', () => {
    const routed = (routing: unknown, action?: string) =>
      variant((d) => {
        d.steps[0].routing = routing;
        if (action === undefined) delete d.steps[0].action;
        else d.steps[0].action = action;
      });
    const candidates = [{ action: 'sms.twilio', cost: 2, benefit: 5 }, { action: 'sms.vonage' }];

    it('accepts a task step routed over candidates instead of an action', () => {
      const result = validateDefinition(routed({ strategy: 'best-score', candidates }));
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      expect(result.definition.steps[0].routing?.candidates).toHaveLength(2);
    });

    it('names an unknown strategy, a bad candidate action, and a step with both action and routing', () => {
      expectProblem(routed({ strategy: 'random', candidates }), '/steps/0/routing/strategy', 'enum');
      expectProblem(
        routed({ strategy: 'failover', candidates: [{ action: 'no spaces' }] }),
        '/steps/0/routing/candidates/0/action',
        'action',
      );
      expectProblem(
        routed({ strategy: 'failover', candidates }, 'sms.twilio'),
        '/steps/0/action',
        'actionOrRouting',
      );
      expectProblem(routed(undefined), '/steps/0/action', 'required');
    });
  });

  it('lists every problem of a broken document with its path', () => {
    const broken: WorkflowDefinition = {
      id: 'broken',
      version: 2,
      triggers: [
        { type: 'event', subject: 'orders.created', key: '{% $event.id %}' },
        { type: 'cron', expression: '99 * * * *', timezone: 'Nowhere/City' },
      ],
      steps: [
        {
          id: 'reserve',
          type: 'task',
          action: 'inventory..reserve',
          parameters: { id: '{% $input.id + %}' },
        },
        { id: 'reserve', type: 'task', action: 'inventory.again' },
        {
          id: 'check',
          type: 'decision',
          action: 'fraud',
          dependencies: ['reserve'],
          branches: { ok: ['ship'], no: ['ghost'] },
        },
        { id: 'ship', type: 'task', action: 'shipping.ship', dependencies: ['check', 'later'] },
        { id: 'later', type: 'task', action: 'x.later', dependencies: ['ship'] },
        { id: 'lonely', type: 'task', action: 'x.lonely', join: 'all' },
        { id: 'pause', type: 'wait', dependencies: ['check'], parameters: { seconds: 5, signal: 'go' } },
        {
          id: 'tell',
          type: 'emit',
          dependencies: ['pause', 'missing'],
          parameters: { subject: 'events.*', payload: 1 },
        },
      ],
    };
    const errors = errorsOf(broken);
    const got = errors.map((e) => `${e.rule} ${e.path}`).sort();
    expect(got).toEqual(
      [
        'triggerSubject /triggers/0/subject',
        'cron /triggers/1/expression',
        'timezone /triggers/1/timezone',
        'action /steps/0/action',
        'expressionSyntax /steps/0/parameters/id',
        'duplicateStepId /steps/1/id',
        'branchTarget /steps/2/branches/no/0',
        'cycle /steps/3/dependencies',
        'join /steps/5/join',
        'waitKind /steps/6/parameters',
        'emitSubject /steps/7/parameters/subject',
        'unknownDependency /steps/7/dependencies/1',
      ].sort(),
    );
    expect(errors.find((e) => e.rule === 'cycle')?.message).toContain('ship -> later -> ship');
    for (const e of errors) expect(e.message.length).toBeGreaterThan(0);
  });

  it('caps the list of problems', () => {
    const steps = Array.from({ length: 150 }, (_, i) => ({
      id: `s${i}`,
      type: 'task',
      action: 'bad action',
    }));
    const errors = errorsOf(variant((d) => (d.steps = steps)));
    expect(errors).toHaveLength(101);
    expect(errors[100]).toEqual({ path: '', rule: 'tooManyErrors', message: '50 more problems not listed' });
  });
});
