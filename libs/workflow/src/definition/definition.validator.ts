import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

import {
  DEFAULT_LIMITS,
  MAX_ID_LENGTH,
  StepType,
  WORKFLOW_ID,
  isAction,
  isSubjectToken,
  isValidSubjectPattern,
  jsonDepth,
} from '@baton/contracts';
import type { ErrorDetail, WorkflowDefinition } from '@baton/contracts';

import { conditionProblems } from '../conditions/condition';
import {
  checkExpressionSyntax,
  expressionBody,
  findExpressions,
  isExpression,
  pointerToken,
} from '../expressions/expression';
import { cronProblem, isTimeZone } from './cron';
import { DEFINITION_SCHEMA } from './definition.schema';

/** The result of {@link validateDefinition}. */
export type DefinitionValidation =
  { ok: true; definition: WorkflowDefinition } | { ok: false; errors: ErrorDetail[] };

/** Most problems listed for one document; past it a last entry (rule `tooManyErrors`) says how many more. */
export const MAX_REPORTED_ERRORS = 100;

const CATEGORY = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  ajv.addKeyword({ keyword: 'ruleName', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'ruleMessage', schemaType: 'string' });
  compiled = ajv.compile(DEFINITION_SCHEMA);
  return compiled;
}

/**
 * Validates a parsed definition (CONTRACT §3) and lists every problem, each with a JSON-pointer `path`
 * (`/steps/3/dependencies/1`), a `message` and a `rule`. Three passes:
 * 1. shape (JSON Schema, ajv): required and unknown fields (`required`, `unknownField`), types, ids
 *    (`workflowId`, `stepId`), `version`, numeric ranges (`range`), limits (`limit`: 500 steps, 100
 *    dependencies, 20 triggers), per-type fields;
 * 2. field values, on whatever is present: actions (`action`, `subworkflowAction`, `decisionAction`),
 *    trigger subjects (`triggerSubject`), cron (`cron`) and time zones (`timezone`), wait (`waitKind`,
 *    `waitSeconds`, `waitUntil`, `waitSignal`, `waitSubject`), emit (`emitSubject`), parallel items
 *    (`parallelItems`), retry intervals (`retryPolicy`), expressions (`expressionSyntax`,
 *    `expressionRequired`);
 * 3. graph, only when the shape is right: `duplicateStepId`, `unknownDependency`, `selfDependency`, `cycle`
 *    (the message names it: `a -> b -> a`), `join`, `branchTarget`.
 * A document nested deeper than 32 levels gets the single error `maxDepth`. The returned definition is a copy.
 */
export function validateDefinition(input: unknown): DefinitionValidation {
  if (jsonDepth(input, DEFAULT_LIMITS.maxJsonDepth) > DEFAULT_LIMITS.maxJsonDepth) {
    return {
      ok: false,
      errors: [
        { path: '', message: `nests deeper than ${DEFAULT_LIMITS.maxJsonDepth} levels`, rule: 'maxDepth' },
      ],
    };
  }
  const errors = new Problems();
  const validate = schemaValidator();
  const shapeOk = validate(input) === true;
  if (!shapeOk) for (const err of validate.errors ?? []) errors.addAjv(err, input);
  checkFields(input, errors);
  // The graph is checked even when other parts are malformed, over the steps whose id, dependencies and
  // branches are well-formed, so that one answer lists every problem.
  checkGraph(shapeOk ? (input as WorkflowDefinition) : graphView(input), errors);
  const list = errors.list();
  if (list.length > 0) return { ok: false, errors: list };
  return { ok: true, definition: structuredClone(input) as WorkflowDefinition };
}

class Problems {
  private readonly items: ErrorDetail[] = [];
  private readonly seen = new Set<string>();
  private readonly paths = new Set<string>();

  add(path: string, rule: string, message: string): void {
    const key = `${path}\u0000${rule}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.paths.add(path);
    this.items.push({ path, message, rule });
  }

  /** Adds a field-value problem unless the shape pass already reported that exact path. */
  addValue(path: string, rule: string, message: string): void {
    if (this.paths.has(path)) return;
    this.add(path, rule, message);
  }

  addAjv(err: ErrorObject, doc: unknown): void {
    const mapped = mapAjvError(err, doc);
    if (mapped) this.add(mapped.path, mapped.rule ?? err.keyword, mapped.message);
  }

  list(): ErrorDetail[] {
    if (this.items.length <= MAX_REPORTED_ERRORS) return [...this.items];
    const more = this.items.length - MAX_REPORTED_ERRORS;
    return [
      ...this.items.slice(0, MAX_REPORTED_ERRORS),
      { path: '', message: `${more} more problems not listed`, rule: 'tooManyErrors' },
    ];
  }
}

function mapAjvError(err: ErrorObject, doc: unknown): ErrorDetail | undefined {
  const params = err.params as Record<string, unknown>;
  const parent = (err.parentSchema ?? {}) as { ruleName?: string; ruleMessage?: string };
  const path = err.instancePath;
  switch (err.keyword) {
    case 'if':
    case 'allOf':
      return undefined; // the failing `then` reports the real problem
    case 'required': {
      const field = String(params.missingProperty);
      const owner = describeOwner(path, doc);
      return {
        path: `${path}/${pointerToken(field)}`,
        rule: 'required',
        message: owner ? `${owner} needs '${field}'` : `missing required field '${field}'`,
      };
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      return {
        path: `${path}/${pointerToken(field)}`,
        rule: 'unknownField',
        message: `unknown field '${field}'`,
      };
    }
    case 'false schema': {
      const field = decodeLast(path);
      const owner = describeOwner(parentPath(path), doc);
      return {
        path,
        rule: 'unknownField',
        message: owner
          ? `field '${field}' is not allowed on ${owner}`
          : `field '${field}' is not allowed here`,
      };
    }
    case 'propertyNames':
      return {
        path: `${path}/${pointerToken(String(params.propertyName))}`,
        rule: 'propertyName',
        message: `invalid name '${String(params.propertyName)}'`,
      };
    default:
      break;
  }
  if ((err as { propertyName?: string }).propertyName !== undefined) return undefined; // reported via propertyNames
  const rule = parent.ruleName ?? RULE_BY_KEYWORD[err.keyword] ?? err.keyword;
  const message = parent.ruleMessage ?? err.message ?? `fails ${err.keyword}`;
  return { path, rule, message };
}

const RULE_BY_KEYWORD: Record<string, string> = {
  type: 'type',
  enum: 'enum',
  const: 'enum',
  minimum: 'range',
  maximum: 'range',
  exclusiveMinimum: 'range',
  exclusiveMaximum: 'range',
  maxItems: 'limit',
  maxProperties: 'limit',
  minItems: 'required',
  minProperties: 'required',
  uniqueItems: 'duplicate',
  pattern: 'format',
  minLength: 'format',
  maxLength: 'format',
};

/** `a task step` / `an event trigger` for an object at `/steps/3` or `/triggers/0`, if it has a type. */
function describeOwner(path: string, doc: unknown): string | undefined {
  const m = /^\/(steps|triggers)\/\d+$/.exec(path);
  if (!m) return undefined;
  const type = (resolve(doc, path) as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string') return undefined;
  const noun = m[1] === 'steps' ? 'step' : 'trigger';
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} ${noun}`;
}

function resolve(doc: unknown, path: string): unknown {
  if (path === '') return doc;
  let node: unknown = doc;
  for (const raw of path.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}

function parentPath(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function decodeLast(path: string): string {
  return path
    .slice(path.lastIndexOf('/') + 1)
    .replace(/~1/g, '/')
    .replace(/~0/g, '~');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A subject pattern under `events.>`: `events.` then at least one token; wildcards allowed. */
function isEventPattern(subject: string): boolean {
  return subject.startsWith('events.') && isValidSubjectPattern(subject);
}

/** A concrete subject under `events.` (no wildcards): where an emit step may publish. */
function isEventSubject(subject: string): boolean {
  return isEventPattern(subject) && !subject.split('.').some((t) => t === '*' || t === '>');
}

/** Pass 2: values of fields that are present, whatever the rest of the document looks like. */
function checkFields(doc: unknown, errors: Problems): void {
  if (!isRecord(doc)) return;
  const expressionPlaces: [unknown, string][] = [[doc.output, '/output']];

  items(doc.triggers).forEach((t, i) => {
    if (!isRecord(t)) return;
    const at = `/triggers/${i}`;
    expressionPlaces.push([t.input, `${at}/input`], [t.key, `${at}/key`]);
    if (t.type === 'event' && typeof t.subject === 'string' && !isEventPattern(t.subject)) {
      errors.addValue(
        `${at}/subject`,
        'triggerSubject',
        'must be a subject pattern under events.> (e.g. events.order.created)',
      );
    }
    if (t.type === 'event' && t.condition !== undefined) {
      for (const p of conditionProblems(t.condition, `${at}/condition`, { facts: CONDITION_FACTS })) {
        errors.add(p.path, p.rule ?? 'condition', p.message);
      }
    }
    if (typeof t.key === 'string' && !isExpression(t.key)) {
      errors.addValue(`${at}/key`, 'expressionRequired', 'must be an expression {% ... %}');
    }
    let zoneOk = true;
    if (typeof t.timezone === 'string' && !isTimeZone(t.timezone)) {
      zoneOk = false;
      errors.addValue(`${at}/timezone`, 'timezone', `unknown IANA time zone '${t.timezone}'`);
    }
    if (t.type === 'cron' && typeof t.expression === 'string') {
      const problem = cronProblem(
        t.expression,
        zoneOk && typeof t.timezone === 'string' ? t.timezone : undefined,
      );
      if (problem) errors.addValue(`${at}/expression`, 'cron', problem);
    }
  });

  items(doc.steps).forEach((s, i) => {
    if (!isRecord(s)) return;
    const at = `/steps/${i}`;
    expressionPlaces.push([s.parameters, `${at}/parameters`]);
    if (isRecord(s.compensation)) {
      expressionPlaces.push([s.compensation.parameters, `${at}/compensation/parameters`]);
      const action = s.compensation.action;
      if (typeof action === 'string' && !isAction(action)) {
        errors.addValue(`${at}/compensation/action`, 'action', actionMessage());
      }
    }
    checkAction(s, at, errors);
    if (isRecord(s.retryPolicy)) {
      const { initialIntervalMs, maxIntervalMs } = s.retryPolicy;
      if (
        typeof initialIntervalMs === 'number' &&
        typeof maxIntervalMs === 'number' &&
        maxIntervalMs < initialIntervalMs
      ) {
        errors.addValue(
          `${at}/retryPolicy/maxIntervalMs`,
          'retryPolicy',
          'must not be below initialIntervalMs',
        );
      }
    }
    const p = s.parameters;
    if (!isRecord(p)) return;
    if (s.type === StepType.WAIT) checkWait(p, `${at}/parameters`, errors);
    if (
      s.type === StepType.EMIT &&
      typeof p.subject === 'string' &&
      !isExpression(p.subject) &&
      !isEventSubject(p.subject)
    ) {
      errors.addValue(
        `${at}/parameters/subject`,
        'emitSubject',
        'must be a subject under events. without wildcards (e.g. events.order.fulfilled), or an expression',
      );
    }
    if (
      s.type === StepType.PARALLEL &&
      p.items !== undefined &&
      !Array.isArray(p.items) &&
      !isExpression(p.items)
    ) {
      errors.addValue(
        `${at}/parameters/items`,
        'parallelItems',
        'must be a list or an expression {% ... %} giving one',
      );
    }
  });

  if (isRecord(doc.queries)) {
    for (const [name, q] of Object.entries(doc.queries)) {
      const at = `/queries/${pointerToken(name)}`;
      if (typeof q === 'string' && !isExpression(q))
        errors.addValue(at, 'expressionRequired', 'must be an expression {% ... %}');
      expressionPlaces.push([q, at]);
    }
  }

  for (const [value, base] of expressionPlaces) {
    for (const found of findExpressions(value, base)) {
      const problem = checkExpressionSyntax(expressionBody(found.expression));
      if (problem) {
        errors.add(
          found.path,
          'expressionSyntax',
          `invalid JSONata at position ${problem.position}: ${problem.message}`,
        );
      }
    }
  }
}

function actionMessage(): string {
  return 'must be dot-separated tokens of [A-Za-z0-9-], at most 96 characters (e.g. inventory.reserve)';
}

function checkAction(s: Record<string, unknown>, at: string, errors: Problems): void {
  if (s.routing !== undefined && s.type !== StepType.TASK) {
    errors.add(`${at}/routing`, 'routing', 'routing is only for task steps');
  }
  if (s.type === StepType.TASK) {
    const routing = s.routing as { candidates?: unknown } | undefined;
    if (s.action === undefined && routing === undefined) {
      errors.add(`${at}/action`, 'required', "must have required property 'action' (or 'routing')");
    }
    if (s.action !== undefined && routing !== undefined) {
      errors.add(`${at}/action`, 'actionOrRouting', "give 'action' or 'routing', not both");
    }
    if (routing && Array.isArray(routing.candidates)) {
      routing.candidates.forEach((c: unknown, i: number) => {
        const candidate = (c ?? {}) as { action?: unknown };
        if (typeof candidate.action === 'string' && !isAction(candidate.action)) {
          errors.addValue(`${at}/routing/candidates/${i}/action`, 'action', actionMessage());
        }
      });
    }
  }
  const action = s.action;
  if (typeof action !== 'string') return;
  if ((s.type === StepType.TASK || s.type === StepType.PARALLEL) && !isAction(action)) {
    errors.addValue(`${at}/action`, 'action', actionMessage());
  } else if (
    s.type === StepType.SUBWORKFLOW &&
    (action.length > MAX_ID_LENGTH || !WORKFLOW_ID.test(action))
  ) {
    errors.addValue(`${at}/action`, 'subworkflowAction', 'must be the id of a workflow ([a-z0-9-])');
  } else if (s.type === StepType.DECISION && (action.length > MAX_ID_LENGTH || !CATEGORY.test(action))) {
    errors.addValue(
      `${at}/action`,
      'decisionAction',
      'must be a rule category: dot-separated tokens of [A-Za-z0-9_-]',
    );
  }
}

const WAIT_KINDS = ['seconds', 'until', 'signal', 'event'] as const;

/** The facts of trigger and event-wait conditions: the event's payload and its subject. */
const CONDITION_FACTS = ['event', 'subject'] as const;

function checkWait(p: Record<string, unknown>, at: string, errors: Problems): void {
  const kinds = WAIT_KINDS.filter((k) => p[k] !== undefined);
  if (kinds.length !== 1) {
    const found = kinds.length === 0 ? 'none' : kinds.join(', ');
    errors.add(
      at,
      'waitKind',
      `a wait step needs exactly one of seconds, until, signal or event (found: ${found})`,
    );
  }
  if (p.condition !== undefined && p.event === undefined) {
    errors.addValue(`${at}/condition`, 'waitKind', 'condition applies only to a wait for an event');
  } else if (p.condition !== undefined) {
    for (const problem of conditionProblems(p.condition, `${at}/condition`, {
      facts: CONDITION_FACTS,
      expressionValues: true,
    })) {
      errors.add(problem.path, problem.rule ?? 'condition', problem.message);
    }
  }
  const positive = (v: unknown): boolean => (typeof v === 'number' ? v > 0 : isExpression(v));
  if (
    p.seconds !== undefined &&
    (typeof p.seconds === 'number' || typeof p.seconds === 'string') &&
    !positive(p.seconds)
  ) {
    errors.addValue(`${at}/seconds`, 'waitSeconds', 'must be a number above 0 or an expression');
  }
  if (typeof p.until === 'string' && !isExpression(p.until) && !isDateTime(p.until)) {
    errors.addValue(
      `${at}/until`,
      'waitUntil',
      'must be an ISO-8601 date-time with a zone (2030-01-01T09:00:00Z) or an expression',
    );
  }
  if (typeof p.signal === 'string' && !isSubjectToken(p.signal)) {
    errors.addValue(`${at}/signal`, 'waitSignal', `must be 1-${MAX_ID_LENGTH} characters of [A-Za-z0-9_-]`);
  }
  if (typeof p.event === 'string' && !isEventPattern(p.event)) {
    errors.addValue(
      `${at}/event`,
      'waitSubject',
      'must be a subject pattern under events.> (e.g. events.payment.settled)',
    );
  }
  const timeout = p.timeoutSeconds;
  if ((typeof timeout === 'number' || typeof timeout === 'string') && !positive(timeout)) {
    errors.addValue(`${at}/timeoutSeconds`, 'range', 'must be a number above 0 or an expression');
  }
}

function isDateTime(value: string): boolean {
  return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** Pass 3: ids, dependencies, cycles, joins and branches of a well-shaped document. */
/**
 * The graph-relevant part of a malformed document: every step keeps its index; a step whose `id`,
 * `dependencies` or `branches` is not of the right type contributes only what is well-formed.
 */
function graphView(doc: unknown): WorkflowDefinition {
  const steps = isRecord(doc) && Array.isArray(doc['steps']) ? doc['steps'] : [];
  const isStringList = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((x) => typeof x === 'string');
  return {
    id: '',
    version: 1,
    steps: steps.map((raw, i) => {
      const s = isRecord(raw) ? raw : {};
      const id = typeof s['id'] === 'string' ? s['id'] : `\u0000malformed-${i}`;
      const branches = isRecord(s['branches'])
        ? Object.fromEntries(Object.entries(s['branches']).filter(([, v]) => isStringList(v)))
        : undefined;
      return {
        id,
        type: (typeof s['type'] === 'string' ? s['type'] : 'task') as StepType,
        ...(isStringList(s['dependencies']) ? { dependencies: s['dependencies'] } : {}),
        ...(s['join'] === 'all' || s['join'] === 'any' ? { join: s['join'] } : {}),
        ...(branches ? { branches: branches as Record<string, string[]> } : {}),
      };
    }),
  };
}

function checkGraph(def: WorkflowDefinition, errors: Problems): void {
  const firstIndex = new Map<string, number>();
  def.steps.forEach((s, i) => {
    const first = firstIndex.get(s.id);
    if (first === undefined) firstIndex.set(s.id, i);
    else
      errors.add(
        `/steps/${i}/id`,
        'duplicateStepId',
        `duplicate step id '${s.id}' (first at /steps/${first})`,
      );
  });

  // Edges dependency -> dependent, between known steps, without self-loops.
  const flowsTo = new Map<string, string[]>();
  def.steps.forEach((s, i) => {
    const deps = s.dependencies ?? [];
    deps.forEach((d, j) => {
      const at = `/steps/${i}/dependencies/${j}`;
      if (d === s.id) errors.add(at, 'selfDependency', `step '${s.id}' depends on itself`);
      else if (!firstIndex.has(d)) errors.add(at, 'unknownDependency', `unknown step '${d}'`);
      else if (firstIndex.get(s.id) === i) {
        const list = flowsTo.get(d);
        if (list) list.push(s.id);
        else flowsTo.set(d, [s.id]);
      }
    });
    if (s.join !== undefined && deps.length === 0) {
      errors.add(`/steps/${i}/join`, 'join', 'join applies only to a step with at least one dependency');
    }
  });

  for (const cycle of findCycles([...firstIndex.keys()], flowsTo)) {
    const at = firstIndex.get(cycle[0]) as number;
    errors.add(
      `/steps/${at}/dependencies`,
      'cycle',
      `dependency cycle: ${cycle.join(' -> ')} (each step waits for the one before it)`,
    );
  }

  def.steps.forEach((s, i) => {
    if (s.type !== StepType.DECISION || !s.branches) return;
    for (const [outcome, targets] of Object.entries(s.branches)) {
      targets.forEach((target, j) => {
        const at = `/steps/${i}/branches/${pointerToken(outcome)}/${j}`;
        const index = firstIndex.get(target);
        if (index === undefined) {
          errors.add(at, 'branchTarget', `unknown step '${target}'`);
        } else if (!(def.steps[index]?.dependencies ?? []).includes(s.id)) {
          errors.add(at, 'branchTarget', `step '${target}' must list '${s.id}' in its dependencies`);
        }
      });
    }
  });
}

/**
 * One cycle per strongly connected component of more than one step (Tarjan), each as a closed walk
 * `a, b, ..., a` starting at the component's first step in definition order.
 */
function findCycles(ids: string[], flowsTo: Map<string, string[]>): string[][] {
  const order = new Map(ids.map((id, i) => [id, i]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of flowsTo.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const id of ids) if (!index.has(id)) connect(id);

  const cycles = components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort((a, b) => (order.get(a) as number) - (order.get(b) as number))[0];
    // Shortest way back to `start` inside the component (breadth-first).
    const previous = new Map<string, string>();
    const queue = [start];
    let found = false;
    while (queue.length > 0 && !found) {
      const v = queue.shift() as string;
      for (const w of flowsTo.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          previous.set(start, v);
          found = true;
          break;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    const back: string[] = [];
    for (let at = previous.get(start) as string; at !== start; at = previous.get(at) as string) back.push(at);
    return [start, ...back.reverse(), start];
  });
  return cycles.sort((a, b) => (order.get(a[0]) as number) - (order.get(b[0]) as number));
}
