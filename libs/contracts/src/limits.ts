import { BatonError, ErrorCode } from './errors';

/** Ingress limits checked at every edge, HTTP and NATS alike. Configurable per service. */
export interface IngressLimits {
  /** Largest accepted body or message payload, in bytes. */
  maxPayloadBytes: number;
  /** Deepest accepted nesting of arrays and objects. */
  maxJsonDepth: number;
}

export const DEFAULT_LIMITS: IngressLimits = {
  maxPayloadBytes: 256 * 1024,
  maxJsonDepth: 32,
};

/** Largest execution state the orchestrator keeps (one KV value; below NATS max_payload). */
export const DEFAULT_MAX_STATE_BYTES = 900 * 1024;

/** Largest output a task may report (bytes of its JSON). */
export const DEFAULT_MAX_OUTPUT_BYTES = 128 * 1024;

/** Returns the nesting depth of a JSON value, stopping early past `limit`. */
export function jsonDepth(value: unknown, limit = Number.MAX_SAFE_INTEGER): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node !== null && typeof node === 'object') {
      const d = depth + 1;
      if (d > max) max = d;
      if (max > limit) return max;
      const children = Array.isArray(node) ? node : Object.values(node as Record<string, unknown>);
      for (const child of children) stack.push([child, d]);
    }
  }
  return max;
}

/**
 * Parses bytes (or a string) as JSON within the limits. Throws PAYLOAD_TOO_LARGE or BAD_REQUEST /
 * VALIDATION_FAILED naming what was wrong.
 */
export function parseJsonWithinLimits(
  input: Uint8Array | string,
  limits: IngressLimits = DEFAULT_LIMITS,
  what = 'payload',
): unknown {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > limits.maxPayloadBytes) {
    throw new BatonError(
      ErrorCode.PAYLOAD_TOO_LARGE,
      `${what} is ${size} bytes; the limit is ${limits.maxPayloadBytes}`,
      { retryable: false },
    );
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new BatonError(ErrorCode.BAD_REQUEST, `${what} is not valid UTF-8`, { retryable: false });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BatonError(ErrorCode.BAD_REQUEST, `${what} is not valid JSON: ${(err as Error).message}`, {
      retryable: false,
    });
  }
  assertJsonDepth(value, limits, what);
  return value;
}

export function assertJsonDepth(
  value: unknown,
  limits: IngressLimits = DEFAULT_LIMITS,
  what = 'payload',
): void {
  const depth = jsonDepth(value, limits.maxJsonDepth);
  if (depth > limits.maxJsonDepth) {
    throw new BatonError(
      ErrorCode.VALIDATION_FAILED,
      `${what} nests deeper than ${limits.maxJsonDepth} levels`,
      {
        details: [{ path: '', message: `nesting depth exceeds ${limits.maxJsonDepth}`, rule: 'maxDepth' }],
        retryable: false,
      },
    );
  }
}
