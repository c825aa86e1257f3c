import { HttpException } from '@nestjs/common';

import { BatonError, ErrorCode, HTTP_STATUS_BY_CODE, isBatonError } from '@baton/contracts';
import type { ErrorBody, ErrorDetail } from '@baton/contracts';

/** How an error is answered over HTTP. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** A server fault (5xx other than UNAVAILABLE): log it with its stack; its message is not shown. */
  fault: boolean;
}

const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: ErrorCode.BAD_REQUEST,
  401: ErrorCode.UNAUTHORIZED,
  403: ErrorCode.UNAUTHORIZED,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  422: ErrorCode.VALIDATION_FAILED,
  503: ErrorCode.UNAVAILABLE,
};

const GENERIC_MESSAGE = 'internal error';

/** The shape of body-parser's (http-errors) errors. */
interface BodyParserError {
  type: string;
  status?: number;
  statusCode?: number;
  limit?: number;
  charset?: string;
  encoding?: string;
  message: string;
}

function isBodyParserError(value: unknown): value is BodyParserError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    typeof (value as { message?: unknown }).message === 'string' &&
    (typeof (value as { status?: unknown }).status === 'number' ||
      typeof (value as { statusCode?: unknown }).statusCode === 'number')
  );
}

/**
 * Maps a body-parser failure (`entity.too.large`, `entity.parse.failed`, ...) to the BatonError it means,
 * or undefined when `value` is not one.
 */
export function bodyParserErrorToBatonError(value: unknown): BatonError | undefined {
  if (!isBodyParserError(value)) return undefined;
  switch (value.type) {
    case 'entity.too.large':
      return new BatonError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `request body is larger than the limit of ${value.limit ?? 'the configured'} bytes`,
        { retryable: false },
      );
    case 'entity.parse.failed':
      return new BatonError(ErrorCode.BAD_REQUEST, `request body is not valid JSON: ${value.message}`, {
        retryable: false,
      });
    case 'charset.unsupported':
      return new BatonError(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `unsupported charset ${JSON.stringify(value.charset ?? '')}; use utf-8`,
        { retryable: false },
      );
    case 'encoding.unsupported':
      return new BatonError(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `unsupported content encoding ${JSON.stringify(value.encoding ?? '')}`,
        { retryable: false },
      );
    case 'request.aborted':
    case 'request.size.invalid':
      return new BatonError(ErrorCode.BAD_REQUEST, value.message, { retryable: false });
    default:
      return undefined;
  }
}

function httpExceptionMessage(
  response: string | object,
  fallback: string,
): { message: string; details: ErrorDetail[] } {
  if (typeof response === 'string') return { message: response, details: [] };
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) {
    const texts = message.map((m) => String(m));
    return { message: texts.join('; ') || fallback, details: texts.map((m) => ({ path: '', message: m })) };
  }
  return { message: typeof message === 'string' ? message : fallback, details: [] };
}

/**
 * Renders any error as `{ error: { code, message, details } }` with its HTTP status: BatonError by
 * `HTTP_STATUS_BY_CODE`, Nest HttpException by status, body-parser failures (413, 400, 415), anything else
 * 500 INTERNAL with a generic message.
 */
export function toErrorResponse(exception: unknown): ErrorResponse {
  if (isBatonError(exception)) {
    const status = HTTP_STATUS_BY_CODE[exception.code] ?? 500;
    return { status, body: exception.toBody(), fault: status >= 500 && status !== 503 };
  }
  const parserError =
    bodyParserErrorToBatonError(exception) ??
    (exception instanceof HttpException ? bodyParserErrorToBatonError(exception.cause) : undefined);
  if (parserError) return toErrorResponse(parserError);

  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const fault = status >= 500 && status !== 503;
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST);
    if (fault) return { status, body: { error: { code, message: GENERIC_MESSAGE } }, fault };
    const { message, details } = httpExceptionMessage(exception.getResponse(), exception.message);
    return {
      status,
      body: { error: { code, message, ...(details.length > 0 ? { details } : {}) } },
      fault,
    };
  }
  return {
    status: 500,
    body: { error: { code: ErrorCode.INTERNAL, message: GENERIC_MESSAGE } },
    fault: true,
  };
}
