import { createHash, randomBytes } from 'node:crypto';

import { BatonError, ErrorCode } from './errors';

/** Ids used as subject tokens: `[A-Za-z0-9_-]`, 1..MAX_ID_LENGTH characters. */
export const MAX_ID_LENGTH = 128;
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;
/** Workflow ids (CONTRACT §3): lower-case letters, digits and `-`. */
export const WORKFLOW_ID = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** Step ids: a subject token that also reads well in JSONata (`$steps.reserve`). */
export const STEP_ID = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** Actions: dot-separated tokens of `[A-Za-z0-9-]`; the first token is the queue. */
export const ACTION = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
export const MAX_ACTION_LENGTH = 96;

export function isSubjectToken(value: unknown, maxLength = MAX_ID_LENGTH): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= maxLength && SUBJECT_TOKEN.test(value)
  );
}

export function assertSubjectToken(value: unknown, name: string, maxLength = MAX_ID_LENGTH): string {
  if (!isSubjectToken(value, maxLength)) {
    throw new BatonError(
      ErrorCode.VALIDATION_FAILED,
      `${name} must be 1-${maxLength} characters of [A-Za-z0-9_-]`,
      {
        details: [{ path: `/${name}`, message: `invalid ${name}: ${preview(value)}`, rule: 'subjectToken' }],
        retryable: false,
      },
    );
  }
  return value;
}

export function isAction(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ACTION_LENGTH && ACTION.test(value);
}

/** `inventory.reserve` -> `inventory_reserve` (one-to-one, since `_` is not allowed in actions). */
export function actionToToken(action: string): string {
  if (!isAction(action)) {
    throw new BatonError(ErrorCode.VALIDATION_FAILED, `invalid action ${preview(action)}`, {
      details: [
        { path: '/action', message: 'action must be dot-separated tokens of [A-Za-z0-9-]', rule: 'action' },
      ],
      retryable: false,
    });
  }
  return action.replace(/\./g, '_');
}

/** The queue of an action is its first token (CONTRACT §3). */
export function queueOf(action: string): string {
  return action.split('.')[0] ?? action;
}

/** A deterministic id from its cause, so a redelivered cause yields the same id. */
export function deterministicId(...parts: (string | number)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(String(part));
    hash.update('\u0000');
  }
  return hash.digest('base64url').slice(0, 26);
}

/** A random id of 26 url-safe characters. */
export function randomId(): string {
  return randomBytes(20).toString('base64url').slice(0, 26);
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
