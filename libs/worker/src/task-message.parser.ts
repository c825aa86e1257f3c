import { ErrorCode, PROTOCOL_VERSION, type TaskMessage } from '@baton/contracts';

/** Outcome of {@link parseTaskMessage}: the task, or why the message can never be processed. */
export type ParsedTask =
  | { ok: true; task: TaskMessage }
  | { ok: false; code: typeof ErrorCode.BAD_REQUEST | typeof ErrorCode.VALIDATION_FAILED; message: string };

const MAX_TEXT_FIELD = 1024;

/**
 * Decodes and checks a task message received for `action`. Accepts unknown fields (later protocol
 * additions); rejects bad UTF-8 or JSON (`BAD_REQUEST`), and a wrong protocol, missing or mistyped fields,
 * or an action other than `action` (`VALIDATION_FAILED`). A missing `input` reads as `null`.
 */
export function parseTaskMessage(data: Uint8Array, action: string): ParsedTask {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    return {
      ok: false,
      code: ErrorCode.BAD_REQUEST,
      message: `task is not UTF-8 JSON: ${(err as Error).message}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: ErrorCode.VALIDATION_FAILED, message: 'task must be a JSON object' };
  }
  const t = value as Record<string, unknown>;
  if (t.protocol !== PROTOCOL_VERSION) {
    return {
      ok: false,
      code: ErrorCode.VALIDATION_FAILED,
      message: `task has protocol ${JSON.stringify(t.protocol)}; this worker speaks protocol ${PROTOCOL_VERSION}`,
    };
  }
  const problems: string[] = [];
  for (const field of [
    'taskId',
    'executionId',
    'workflowId',
    'stepId',
    'action',
    'idempotencyKey',
    'replyTo',
  ]) {
    if (!isText(t[field]))
      problems.push(`${field} must be a non-empty string of at most ${MAX_TEXT_FIELD} characters`);
  }
  for (const field of ['token', 'scheduledAt']) {
    if (typeof t[field] !== 'string') problems.push(`${field} must be a string`);
  }
  for (const field of ['workflowVersion', 'attempt']) {
    if (!isPositiveInteger(t[field])) problems.push(`${field} must be a positive integer`);
  }
  if (t.itemIndex !== undefined && !(Number.isSafeInteger(t.itemIndex) && (t.itemIndex as number) >= 0)) {
    problems.push('itemIndex must be a non-negative integer when present');
  }
  if (
    t.deadline !== undefined &&
    !(typeof t.deadline === 'string' && !Number.isNaN(Date.parse(t.deadline)))
  ) {
    problems.push('deadline must be an ISO-8601 date when present');
  }
  if (t.compensation !== undefined && typeof t.compensation !== 'boolean') {
    problems.push('compensation must be a boolean when present');
  }
  if (
    t.compensates !== undefined &&
    !(
      typeof t.compensates === 'object' &&
      t.compensates !== null &&
      !Array.isArray(t.compensates) &&
      isText((t.compensates as { stepId?: unknown }).stepId)
    )
  ) {
    problems.push('compensates must be an object with a stepId when present');
  }
  if (isText(t.replyTo) && !isPublishSubject(t.replyTo)) {
    problems.push('replyTo must be a subject without wildcards or spaces');
  }
  if (isText(t.action) && t.action !== action) {
    problems.push(
      `action ${JSON.stringify(t.action)} does not match the subject's action ${JSON.stringify(action)}`,
    );
  }
  if (problems.length > 0) {
    return { ok: false, code: ErrorCode.VALIDATION_FAILED, message: `invalid task: ${problems.join('; ')}` };
  }
  const task = { ...t, input: t.input === undefined ? null : t.input } as unknown as TaskMessage;
  return { ok: true, task };
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT_FIELD;
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/** A subject one can publish to: dot-separated non-empty tokens, no wildcards, no whitespace. */
export function isPublishSubject(subject: string): boolean {
  return subject
    .split('.')
    .every((token) => token.length > 0 && token !== '*' && token !== '>' && !/\s/.test(token));
}
