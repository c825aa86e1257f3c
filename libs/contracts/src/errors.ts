/**
 * Error codes that cross the wire (HTTP bodies, NATS headers, task results).
 * Branch on `code`, never on `instanceof`: codes survive serialization and duplicate package copies.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  /** A JSONata expression failed, timed out or exceeded its memory bound. */
  EXPRESSION_FAILED: 'EXPRESSION_FAILED',
  /** A task attempt or wait exceeded its deadline. */
  TIMEOUT: 'TIMEOUT',
  /** A worker reported failure of a task. */
  TASK_FAILED: 'TASK_FAILED',
  /** The execution's state grew past the configured bound. */
  STATE_TOO_LARGE: 'STATE_TOO_LARGE',
  /** An operator terminated the execution. */
  TERMINATED: 'TERMINATED',
  /** A step type or feature the running orchestrator does not execute. */
  UNSUPPORTED_STEP: 'UNSUPPORTED_STEP',
  /** A concurrent writer changed the execution; the operation is retried. */
  CONCURRENT_UPDATE: 'CONCURRENT_UPDATE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code rendered by the services' error filter. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 422,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  CONCURRENT_UPDATE: 409,
};

/** One problem found in an input, with a JSON-pointer-like path (`/steps/2/dependencies/0`). */
export interface ErrorDetail {
  path: string;
  message: string;
  /** Machine-readable rule that failed, e.g. `unknownDependency`, `cycle`, `required`. */
  rule?: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

export interface BatonErrorOptions {
  details?: ErrorDetail[];
  /** Whether repeating the same operation later may succeed. Defaults by code. */
  retryable?: boolean;
  cause?: unknown;
  context?: Record<string, unknown>;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<string> = new Set([
  ErrorCode.UNAVAILABLE,
  ErrorCode.INTERNAL,
  ErrorCode.CONCURRENT_UPDATE,
  ErrorCode.TIMEOUT,
]);

/** The one error base of Baton. Retryability belongs to the error, not to the catch site. */
export class BatonError extends Error {
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly retryable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: string, message: string, options: BatonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatonError';
    this.code = code;
    this.details = options.details ?? [];
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.context = options.context ?? {};
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details.length > 0 ? { details: this.details } : {}),
      },
    };
  }
}

/** Duck-typed check that survives realms and duplicate copies of this package. */
export function isBatonError(value: unknown): value is BatonError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { retryable?: unknown }).retryable === 'boolean' &&
    (value as { name?: unknown }).name === 'BatonError'
  );
}

export function validationError(message: string, details: ErrorDetail[]): BatonError {
  return new BatonError(ErrorCode.VALIDATION_FAILED, message, { details, retryable: false });
}
