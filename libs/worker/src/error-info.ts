import { type ErrorInfo, isBatonError } from '@baton/contracts';

import { isNonRetryableError } from './task.errors';

/** Error types the SDK itself reports in failed results. */
export const WorkerErrorType = {
  /** The handler's output, as JSON, is larger than the limit (`DEFAULT_MAX_OUTPUT_BYTES`). Non-retryable. */
  OUTPUT_TOO_LARGE: 'OUTPUT_TOO_LARGE',
  /** The handler's output cannot be written as JSON (a cycle, a BigInt). Non-retryable. */
  OUTPUT_NOT_SERIALIZABLE: 'OUTPUT_NOT_SERIALIZABLE',
  /** The handler threw something that is not an Error (a string, a plain object). */
  NON_ERROR_THROWN: 'NonErrorThrown',
} as const;
export type WorkerErrorType = (typeof WorkerErrorType)[keyof typeof WorkerErrorType];

/** Longest `error.message` reported; longer messages are cut. */
export const MAX_ERROR_MESSAGE_LENGTH = 4096;
/** Longest `error.type` reported. */
export const MAX_ERROR_TYPE_LENGTH = 128;
/** Largest `error.details` (bytes of JSON) reported; larger details are left out. */
export const MAX_ERROR_DETAILS_BYTES = 16 * 1024;

/**
 * Maps whatever a handler threw to the `error` of a failed TaskResult:
 * - a {@link NonRetryableError} (or any error with `nonRetryable: true` and a string `type`): its `type`,
 *   `message`, `details`, and `nonRetryable: true`;
 * - another Error: `type` is its `code` when that is a non-empty string, else its `name`; a Baton error
 *   that is not retryable (`retryable: false`) is reported non-retryable, with its details;
 * - anything else (a string, an object): type `NonErrorThrown`, the value as message.
 */
export function toErrorInfo(thrown: unknown): ErrorInfo {
  if (isNonRetryableError(thrown)) {
    return withDetails(
      {
        type: clip(thrown.type || 'Error', MAX_ERROR_TYPE_LENGTH),
        message: clip(messageOf(thrown), MAX_ERROR_MESSAGE_LENGTH),
        nonRetryable: true,
      },
      (thrown as { details?: unknown }).details,
    );
  }
  if (isErrorLike(thrown)) {
    const code = (thrown as { code?: unknown }).code;
    const type = typeof code === 'string' && code.length > 0 ? code : thrown.name || 'Error';
    const info: ErrorInfo = {
      type: clip(type, MAX_ERROR_TYPE_LENGTH),
      message: clip(thrown.message, MAX_ERROR_MESSAGE_LENGTH),
    };
    if (isBatonError(thrown)) {
      if (!thrown.retryable) info.nonRetryable = true;
      return withDetails(info, thrown.details.length > 0 ? thrown.details : undefined);
    }
    return info;
  }
  return {
    type: WorkerErrorType.NON_ERROR_THROWN,
    message: clip(describe(thrown), MAX_ERROR_MESSAGE_LENGTH),
  };
}

function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { message?: unknown }).message === 'string' &&
      typeof (value as { name?: unknown }).name === 'string')
  );
}

function messageOf(value: unknown): string {
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' ? message : describe(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined was thrown';
  try {
    const json = JSON.stringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // not JSON: describe it below
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'symbol') return value.toString();
  return Object.prototype.toString.call(value);
}

function withDetails(info: ErrorInfo, details: unknown): ErrorInfo {
  if (details === undefined) return info;
  try {
    const json = JSON.stringify(details);
    if (typeof json === 'string' && Buffer.byteLength(json) <= MAX_ERROR_DETAILS_BYTES) {
      info.details = JSON.parse(json) as unknown;
    }
  } catch {
    // details that cannot be written as JSON are left out
  }
  return info;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
