import { BatonError, ErrorCode } from '@baton/contracts';

/**
 * Opaque keyset cursors: base64url of a small JSON object. Decoding checks the shape and throws
 * `BAD_REQUEST` (HTTP 400) naming the parameter, so a tampered or truncated cursor is a client error.
 */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A `BAD_REQUEST` naming the query parameter `param`. */
export function badParameter(param: string, message: string, rule = 'invalid'): BatonError {
  return new BatonError(ErrorCode.BAD_REQUEST, `query parameter '${param}' ${message}`, {
    retryable: false,
    details: [{ path: param, message, rule }],
  });
}

/**
 * Decodes a cursor made by {@link encodeCursor} and checks that every key of `shape` is present with
 * the given type (`'digits'` = a string of decimal digits, as produced for int8 values).
 */
export function decodeCursor(
  cursor: string,
  shape: Record<string, 'string' | 'digits' | 'integer'>,
  param = 'cursor',
): Record<string, unknown> {
  const invalid = (): BatonError =>
    badParameter(param, 'is not a valid cursor (pass nextCursor from a previous page)', 'cursor');
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
  const obj = value as Record<string, unknown>;
  for (const [key, kind] of Object.entries(shape)) {
    const v = obj[key];
    const ok =
      kind === 'string'
        ? typeof v === 'string' && v.length > 0
        : kind === 'digits'
          ? typeof v === 'string' && /^-?\d{1,19}$/.test(v)
          : typeof v === 'number' && Number.isSafeInteger(v);
    if (!ok) throw invalid();
  }
  return obj;
}
