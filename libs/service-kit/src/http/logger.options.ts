import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Params } from 'nestjs-pino';
import type { DestinationStream, LoggerOptions } from 'pino';

import { logCorrelationFields } from '@baton/telemetry';

import { redactUrlPassword } from '../config/config.loader';
import type { LogLevel } from '../config/env.schema';

/** Paths whose requests are not logged (probes and scrapes every few seconds). */
const QUIET_PATHS = ['/health/live', '/health/ready', '/metrics'];

/** Header values never logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

function redactStrings(value: unknown): unknown {
  return typeof value === 'string' ? redactUrlPassword(value) : value;
}

/**
 * pino options shared by every service: JSON lines named `baton-<service>`, secrets redacted (authorization
 * headers, passwords in URLs anywhere in messages or top-level fields), `trace_id`/`span_id` of the active
 * span when tracing is on and `execution_id` of the execution being handled (see `runWithExecution`).
 */
export function loggerOptions(name: string, level: LogLevel): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: logCorrelationFields,
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map(redactStrings) as Parameters<typeof method>);
      },
    },
    formatters: {
      log(object) {
        const out: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(object)) out[key] = redactStrings(value);
        return out;
      },
    },
  };
}

/**
 * nestjs-pino `LoggerModule` parameters: {@link loggerOptions} plus one line per request (method, URL,
 * status, time; not for probes and scrapes), warn for 4xx, error for 5xx. `destination` is for tests.
 */
export function pinoParams(name: string, level: LogLevel, destination?: DestinationStream): Params {
  const options = {
    ...loggerOptions(name, level),
    autoLogging: {
      ignore: (req: IncomingMessage) => QUIET_PATHS.includes((req.url ?? '').split('?')[0] ?? ''),
    },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err !== undefined || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrlPassword(req.url ?? ''),
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  } as const;
  return { pinoHttp: destination === undefined ? options : [options, destination] };
}
