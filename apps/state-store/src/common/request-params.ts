import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';

import { BatonError, type ErrorDetail, ErrorCode } from '@baton/contracts';

/**
 * Validates request parameters (HTTP query string, or the JSON body of a NATS request) against a DTO
 * class with class-validator decorators. Unknown parameters are rejected too. Throws `BAD_REQUEST`
 * (HTTP 400) whose message and details name each bad parameter.
 */
export function parseParams<T extends object>(dto: new () => T, raw: unknown): T {
  return parseInput(dto, raw, ErrorCode.BAD_REQUEST);
}

/**
 * Validates a request body like {@link parseParams}, but throws `VALIDATION_FAILED` (HTTP 422) whose
 * details name each bad field (`reason`).
 */
export function parseBody<T extends object>(dto: new () => T, raw: unknown): T {
  return parseInput(dto, raw, ErrorCode.VALIDATION_FAILED);
}

function parseInput<T extends object>(
  dto: new () => T,
  raw: unknown,
  code: typeof ErrorCode.BAD_REQUEST | typeof ErrorCode.VALIDATION_FAILED,
): T {
  const what = code === ErrorCode.BAD_REQUEST ? 'parameters' : 'body';
  const input = raw ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new BatonError(code, `${what} must be a JSON object`, {
      retryable: false,
      details: [{ path: '', message: 'must be an object', rule: 'type' }],
    });
  }
  const instance = plainToInstance(dto, input);
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
  });
  if (errors.length > 0) throw paramsError(errors, code);
  return instance;
}

function paramsError(
  errors: ValidationError[],
  code: typeof ErrorCode.BAD_REQUEST | typeof ErrorCode.VALIDATION_FAILED,
): BatonError {
  const details: ErrorDetail[] = errors.map((e) => {
    const [rule, message] = Object.entries(e.constraints ?? {})[0] ?? ['invalid', 'is invalid'];
    return rule === 'whitelistValidation'
      ? { path: e.property, message: 'is not a known parameter', rule: 'unknown' }
      : { path: e.property, message, rule };
  });
  const noun = code === ErrorCode.BAD_REQUEST ? 'parameter' : 'field';
  const summary = details.map((d) => `${noun} '${d.path}' ${d.message}`).join('; ');
  return new BatonError(code, summary, { retryable: false, details });
}

/** A `NOT_FOUND` naming what was looked for. */
export function notFound(what: string): BatonError {
  return new BatonError(ErrorCode.NOT_FOUND, `${what} not found`, { retryable: false });
}
