/**
 * Classification of nats.js errors by name and API code (not `instanceof`, which breaks across
 * duplicate package copies).
 */

/** JetStream API error codes used here (server `errors.json`). */
export const JsApiCode = {
  CONSUMER_NOT_FOUND: 10014,
  STREAM_NOT_FOUND: 10059,
  /** Stream name already in use with a different configuration. */
  STREAM_NAME_EXISTS: 10058,
  /** Consumer name already in use (2.9). */
  CONSUMER_NAME_EXISTS: 10013,
  /** Consumer already exists (2.10+ create action). */
  CONSUMER_ALREADY_EXISTS: 10148,
} as const;

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  status?: unknown;
  cause?: unknown;
}

function asErrorLike(err: unknown): ErrorLike | undefined {
  return typeof err === 'object' && err !== null ? err : undefined;
}

function apiCode(err: unknown): number | undefined {
  const code = asErrorLike(err)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isStreamNotFound(err: unknown): boolean {
  const e = asErrorLike(err);
  return (
    e?.name === 'StreamNotFoundError' ||
    apiCode(err) === JsApiCode.STREAM_NOT_FOUND ||
    e?.message === 'stream not found'
  );
}

export function isConsumerNotFound(err: unknown): boolean {
  const e = asErrorLike(err);
  return (
    e?.name === 'ConsumerNotFoundError' ||
    apiCode(err) === JsApiCode.CONSUMER_NOT_FOUND ||
    e?.message === 'consumer not found'
  );
}

export function isAlreadyExists(err: unknown): boolean {
  const code = apiCode(err);
  return (
    code === JsApiCode.STREAM_NAME_EXISTS ||
    code === JsApiCode.CONSUMER_NAME_EXISTS ||
    code === JsApiCode.CONSUMER_ALREADY_EXISTS
  );
}

/**
 * Whether a JetStream request failed in a way that a retry may cure: a timeout, no responders (the
 * server or JetStream is not there yet, e.g. during a restart) or a 503 from the JetStream API.
 */
export function isTransientNatsError(err: unknown): boolean {
  const e = asErrorLike(err);
  if (e === undefined) return false;
  switch (e.name) {
    case 'TimeoutError':
    case 'NoResponders':
    case 'NoRespondersError':
    case 'JetStreamNotEnabled':
      return true;
    case 'RequestError': {
      const fn = (err as { isNoResponders?: () => boolean }).isNoResponders;
      return typeof fn === 'function' ? fn.call(err) : isTransientNatsError(e.cause);
    }
    case 'JetStreamApiError':
      return e.status === 503;
    default:
      return false;
  }
}
