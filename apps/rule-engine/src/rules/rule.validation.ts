import { type ErrorDetail, SUBJECT_TOKEN, validationError } from '@baton/contracts';
import type { RuleDefinition } from '@baton/persistence';
import { CONDITION_LIMITS, conditionProblems } from '@baton/workflow';

/** Rule ids: lower-case letters, digits and `-`, at most {@link MAX_RULE_ID_LENGTH}. */
export const RULE_ID = /^[a-z0-9-]+$/;
export const MAX_RULE_ID_LENGTH = 128;
/** Bounds of a rule's parts. */
export const RULE_LIMITS = {
  name: 200,
  description: 2_000,
  category: 64,
  actionType: 64,
  actions: 16,
  ...CONDITION_LIMITS,
  priority: 1_000_000,
} as const;
export { FACT_PATH } from '@baton/workflow';

const RULE_KEYS = new Set([
  'id',
  'name',
  'description',
  'category',
  'condition',
  'actions',
  'priority',
  'enabled',
]);
const ACTION_KEYS = new Set(['type', 'params']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `id` can name a rule. */
export function isRuleId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= MAX_RULE_ID_LENGTH && RULE_ID.test(id);
}

/**
 * Checks a rule as written by a client and returns it with defaults (`description` `''`, `priority` 0,
 * `enabled` true). `idFromPath` is the id of `PUT /v1/rules/:id` (the body's `id` may then be left out,
 * and must match when given). Throws `VALIDATION_FAILED` (422) listing every problem with its path.
 */
export function validateRule(body: unknown, idFromPath?: string): RuleDefinition {
  const problems: ErrorDetail[] = [];
  const add = (path: string, message: string, rule: string) => problems.push({ path, message, rule });
  if (!isObject(body)) {
    throw validationError('rule must be a JSON object', [
      { path: '', message: 'must be an object', rule: 'type' },
    ]);
  }
  for (const key of Object.keys(body)) {
    if (!RULE_KEYS.has(key)) add(`/${key}`, 'is not a known field', 'unknown');
  }
  const id = body.id ?? idFromPath;
  if (id === undefined) add('/id', 'is required', 'required');
  else if (!isRuleId(id))
    add('/id', `must match [a-z0-9-]+ with at most ${MAX_RULE_ID_LENGTH} characters`, 'format');
  else if (idFromPath !== undefined && id !== idFromPath)
    add('/id', `must be the id of the path (${idFromPath})`, 'mismatch');

  text(body, 'name', RULE_LIMITS.name, true, add);
  text(body, 'description', RULE_LIMITS.description, false, add);
  if (body.category === undefined) add('/category', 'is required', 'required');
  else if (
    typeof body.category !== 'string' ||
    body.category.length > RULE_LIMITS.category ||
    !SUBJECT_TOKEN.test(body.category)
  ) {
    add(
      '/category',
      `must be a token of [A-Za-z0-9_-] with at most ${RULE_LIMITS.category} characters`,
      'format',
    );
  }
  if (
    body.priority !== undefined &&
    (!Number.isSafeInteger(body.priority) || Math.abs(body.priority as number) > RULE_LIMITS.priority)
  ) {
    add(
      '/priority',
      `must be an integer between -${RULE_LIMITS.priority} and ${RULE_LIMITS.priority}`,
      'type',
    );
  }
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean')
    add('/enabled', 'must be a boolean', 'type');

  if (body.condition === undefined) add('/condition', 'is required', 'required');
  else problems.push(...conditionProblems(body.condition, '/condition'));

  checkActions(body.actions, add);

  if (problems.length > 0) {
    const summary = problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ');
    throw validationError(`rule is invalid: ${summary}`, problems);
  }
  return {
    id: id as string,
    name: body.name as string,
    description: (body.description as string | undefined) ?? '',
    category: body.category as string,
    condition: body.condition as Record<string, unknown>,
    actions: (body.actions as RuleDefinition['actions']).map((a) =>
      a.params === undefined ? { type: a.type } : { type: a.type, params: a.params },
    ),
    priority: (body.priority as number | undefined) ?? 0,
    enabled: (body.enabled as boolean | undefined) ?? true,
  };
}

type Add = (path: string, message: string, rule: string) => void;

function text(body: Record<string, unknown>, key: string, max: number, required: boolean, add: Add): void {
  const v = body[key];
  if (v === undefined) {
    if (required) add(`/${key}`, 'is required', 'required');
  } else if (typeof v !== 'string' || (required && v.trim().length === 0) || v.length > max) {
    add(`/${key}`, `must be a ${required ? 'non-empty ' : ''}string of at most ${max} characters`, 'type');
  }
}

function checkActions(actions: unknown, add: Add): void {
  if (actions === undefined) {
    add('/actions', 'is required', 'required');
    return;
  }
  if (!Array.isArray(actions) || actions.length === 0 || actions.length > RULE_LIMITS.actions) {
    add('/actions', `must be an array of 1 to ${RULE_LIMITS.actions} actions`, 'type');
    return;
  }
  actions.forEach((action: unknown, i) => {
    const path = `/actions/${i}`;
    if (!isObject(action)) {
      add(path, 'must be an object { type, params? }', 'type');
      return;
    }
    for (const key of Object.keys(action)) {
      if (!ACTION_KEYS.has(key)) add(`${path}/${key}`, 'is not a known field', 'unknown');
    }
    if (action.type === undefined) add(`${path}/type`, 'is required', 'required');
    else if (
      typeof action.type !== 'string' ||
      action.type.length > RULE_LIMITS.actionType ||
      !SUBJECT_TOKEN.test(action.type)
    ) {
      add(
        `${path}/type`,
        `must be a token of [A-Za-z0-9_-] with at most ${RULE_LIMITS.actionType} characters`,
        'format',
      );
    }
    if (action.params !== undefined && !isObject(action.params))
      add(`${path}/params`, 'must be an object', 'type');
  });
}
