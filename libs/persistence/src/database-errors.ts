import { BatonError, ErrorCode } from '@baton/contracts';

/**
 * How a failed database operation should be treated by its caller.
 * - `data`: the input itself was rejected (SQLSTATE class 22 data exception, class 23 integrity
 *   violation). Repeating the same input fails again: not retryable.
 * - `unavailable`: the database could not be reached or is shutting down, or the transaction lost a
 *   race (serialization failure, deadlock). Repeating later may succeed.
 * - `other`: anything else (a programming or schema error). Treated as retryable so that nothing is
 *   discarded because of a bug that a deploy can fix.
 */
export const DatabaseErrorKind = {
  DATA: 'data',
  UNAVAILABLE: 'unavailable',
  OTHER: 'other',
} as const;
export type DatabaseErrorKind = (typeof DatabaseErrorKind)[keyof typeof DatabaseErrorKind];

/** Node.js socket error codes that mean "the server is not reachable". */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages of `pg`/TypeORM errors raised without a code when a connection is lost or refused. */
const NETWORK_MESSAGE =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|connection ended|client has encountered a connection error|cannot use a pool after calling end|driver not connected|not connected|the database system is (starting up|shutting down)/i;

function codesOf(err: unknown): { sqlState?: string; code?: string; message: string } {
  const seen = new Set<unknown>();
  let current: unknown = err;
  let sqlState: string | undefined;
  let code: string | undefined;
  const messages: string[] = [];
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const c = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof c.message === 'string') messages.push(c.message);
    if (typeof c.code === 'string') {
      if (/^[0-9A-Z]{5}$/.test(c.code) && sqlState === undefined) sqlState = c.code;
      else if (code === undefined) code = c.code;
    }
    // AggregateError from `net` (several addresses refused): look at the first.
    if (Array.isArray(c.errors) && c.errors.length > 0 && code === undefined) {
      const first = c.errors[0] as { code?: unknown };
      if (typeof first?.code === 'string') code = first.code;
    }
    current = c.driverError ?? c.cause;
  }
  return { sqlState, code, message: messages.join(': ') };
}

/**
 * Classifies an error thrown by `pg` or TypeORM (including `QueryFailedError` wrappers and
 * connection errors) by what a caller should do about it.
 */
export function classifyDatabaseError(err: unknown): DatabaseErrorKind {
  const { sqlState, code, message } = codesOf(err);
  if (sqlState !== undefined) {
    const cls = sqlState.slice(0, 2);
    if (cls === '22' || cls === '23') return DatabaseErrorKind.DATA;
    // 08 connection exception, 53 insufficient resources, 57 operator intervention (admin shutdown,
    // cannot connect now, query canceled), 58 system error, 40 transaction rollback (serialization
    // failure, deadlock), 55P03 lock not available.
    if (['08', '53', '57', '58', '40'].includes(cls) || sqlState === '55P03')
      return DatabaseErrorKind.UNAVAILABLE;
    return DatabaseErrorKind.OTHER;
  }
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return DatabaseErrorKind.UNAVAILABLE;
  if (NETWORK_MESSAGE.test(message)) return DatabaseErrorKind.UNAVAILABLE;
  return DatabaseErrorKind.OTHER;
}

/** The SQLSTATE of a PostgreSQL error (through TypeORM's wrapper), if it carries one. */
export function sqlStateOf(err: unknown): string | undefined {
  return codesOf(err).sqlState;
}

/**
 * Wraps a database error in a {@link BatonError}: `VALIDATION_FAILED` (not retryable) for data
 * errors, `UNAVAILABLE` (retryable) when the database is unreachable, `INTERNAL` (retryable) otherwise.
 * `what` names the operation for the message (`"writing history of execution e-1"`).
 */
export function toBatonDatabaseError(err: unknown, what: string): BatonError {
  if (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'BatonError') {
    return err as BatonError;
  }
  const kind = classifyDatabaseError(err);
  const { sqlState, message } = codesOf(err);
  const context = { sqlState, kind };
  switch (kind) {
    case DatabaseErrorKind.DATA:
      return new BatonError(ErrorCode.VALIDATION_FAILED, `${what} was rejected by the database: ${message}`, {
        retryable: false,
        cause: err,
        context,
      });
    case DatabaseErrorKind.UNAVAILABLE:
      return new BatonError(ErrorCode.UNAVAILABLE, `${what} failed, database unavailable: ${message}`, {
        retryable: true,
        cause: err,
        context,
      });
    default:
      return new BatonError(ErrorCode.INTERNAL, `${what} failed: ${message}`, {
        retryable: true,
        cause: err,
        context,
      });
  }
}
