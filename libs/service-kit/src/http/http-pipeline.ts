import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { NestExpressApplication } from '@nestjs/platform-express';
import { parseDocument } from 'yaml';

import { BatonError, ErrorCode, assertJsonDepth } from '@baton/contracts';
import type { IngressLimits } from '@baton/contracts';

/** A request as the middlewares below see it (Express adds `body`). */
export type PipelineRequest = IncomingMessage & { body?: unknown };
export type PipelineNext = (err?: unknown) => void;
export type PipelineMiddleware = (req: PipelineRequest, res: ServerResponse, next: PipelineNext) => void;

/** Content types of JSON bodies. */
export const JSON_MEDIA_TYPES = ['application/json'] as const;
/** Content types of YAML bodies (parsed with `yaml` into `req.body`). */
export const YAML_MEDIA_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml'] as const;

/** The media type of a request (`application/json`), lower-case, without parameters; '' when absent. */
export function mediaTypeOf(req: Pick<IncomingMessage, 'headers'>): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Whether a request carries a body (as body-parser decides: chunked, or a non-zero Content-Length). */
export function hasBody(req: Pick<IncomingMessage, 'headers'>): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '' && Number(length) !== 0;
}

function isJsonMediaType(type: string): boolean {
  return (
    (JSON_MEDIA_TYPES as readonly string[]).includes(type) || /^application\/[a-z0-9.+-]+\+json$/.test(type)
  );
}

function isYamlMediaType(type: string): boolean {
  return (YAML_MEDIA_TYPES as readonly string[]).includes(type);
}

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Both sides are hashed first, so the
 * comparison takes the same time whatever the input and its length.
 */
export function isAuthorized(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match?.[1]) return false;
  const given = createHash('sha256').update(match[1]).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

/**
 * The `BATON_API_TOKEN` guard, mounted on `/v1`: without `Authorization: Bearer <token>` the request fails
 * with 401 UNAUTHORIZED before its body is read.
 */
export function apiTokenGuard(token: string): PipelineMiddleware {
  return (req, res, next) => {
    if (isAuthorized(req.headers.authorization, token)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="baton"');
    next(
      new BatonError(
        ErrorCode.UNAUTHORIZED,
        req.headers.authorization === undefined
          ? 'missing bearer token: send Authorization: Bearer <token>'
          : 'invalid bearer token',
        { retryable: false },
      ),
    );
  };
}

/** Rejects a body of any other type than JSON or YAML with 415 UNSUPPORTED_MEDIA_TYPE. */
export const requireSupportedMediaType: PipelineMiddleware = (req, _res, next) => {
  if (!hasBody(req)) return next();
  const type = mediaTypeOf(req);
  if (isJsonMediaType(type) || isYamlMediaType(type)) return next();
  next(
    new BatonError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `unsupported content type ${JSON.stringify(type || '(none)')}; send application/json or application/yaml`,
      { retryable: false },
    ),
  );
};

/** Parses YAML text as one document into a JSON-compatible value; throws 400 BAD_REQUEST naming line/column. */
export function parseYamlBody(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const head = e.message.split('\n')[0] ?? e.message;
      return { message: head.replace(/:\s*$/, ''), rule: e.code };
    });
    throw new BatonError(
      ErrorCode.BAD_REQUEST,
      `request body is not valid YAML: ${lines[0]?.message ?? 'syntax error'}`,
      {
        retryable: false,
        details: lines.map((l) => ({ path: '', message: l.message, rule: l.rule })),
      },
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new BatonError(ErrorCode.BAD_REQUEST, `request body is not valid YAML: ${(err as Error).message}`, {
      retryable: false,
    });
  }
}

/** Turns the YAML text left by the text parser into the parsed value. */
export const parseYaml: PipelineMiddleware = (req, _res, next) => {
  if (typeof req.body !== 'string' || !isYamlMediaType(mediaTypeOf(req))) return next();
  try {
    req.body = parseYamlBody(req.body);
    next();
  } catch (err) {
    next(err);
  }
};

/** Rejects bodies nested deeper than the limit (422 VALIDATION_FAILED). */
export function limitJsonDepth(limits: IngressLimits): PipelineMiddleware {
  return (req, _res, next) => {
    if (req.body === null || typeof req.body !== 'object') return next();
    try {
      assertJsonDepth(req.body, limits, 'request body');
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Options of {@link installHttpPipeline}. */
export interface HttpPipelineOptions {
  limits: IngressLimits;
  /** `BATON_API_TOKEN`: when set, every `/v1` route needs it as bearer token. */
  apiToken?: string;
}

/**
 * Installs, in order: the `/v1` bearer guard, the 415 check, the JSON and YAML body parsers bounded by
 * `limits.maxPayloadBytes`, YAML parsing and the JSON depth limit. The app must be created with
 * `bodyParser: false`. Parser failures reach the exception filter (413 naming the limit, 400 bad JSON).
 */
export function installHttpPipeline(app: NestExpressApplication, options: HttpPipelineOptions): void {
  const { limits, apiToken } = options;
  if (apiToken !== undefined) app.use('/v1', apiTokenGuard(apiToken));
  app.use(requireSupportedMediaType);
  app.useBodyParser('json', {
    limit: limits.maxPayloadBytes,
    strict: false,
    type: (req: IncomingMessage) => isJsonMediaType(mediaTypeOf(req)),
  });
  app.useBodyParser('text', {
    limit: limits.maxPayloadBytes,
    type: (req: IncomingMessage) => isYamlMediaType(mediaTypeOf(req)),
  });
  app.use(parseYaml);
  app.use(limitJsonDepth(limits));
}
