import { isSpanContextValid, trace } from '@opentelemetry/api';

import type { WorkerLogger } from './worker.types';

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
type Level = keyof typeof LEVELS;

/**
 * The default logger: one JSON object per line on stdout (pino's shape: `level`, `time`, `msg`, fields),
 * from `minLevel` up. Errors in fields are written as `{ type, message, stack }`. Lines written inside a
 * task's span carry `trace_id` and `span_id`; lines about an execution (an `executionId` field or binding)
 * carry `execution_id`, the name the services' logs use.
 */
export function createJsonLogger(
  minLevel: Level = 'info',
  bindings: Record<string, unknown> = { name: 'baton-worker' },
  write: (line: string) => void = (line) => process.stdout.write(line),
): WorkerLogger {
  const log =
    (level: Level) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (LEVELS[level] < LEVELS[minLevel]) return;
      const record: Record<string, unknown> = { level: LEVELS[level], time: Date.now(), ...bindings };
      for (const [key, value] of Object.entries(obj))
        record[key] = value instanceof Error ? errorFields(value) : value;
      Object.assign(record, correlationFields(record));
      if (msg !== undefined) record.msg = msg;
      let line: string;
      try {
        line = JSON.stringify(record);
      } catch {
        line = JSON.stringify({ level: LEVELS[level], time: record.time, ...bindings, msg });
      }
      write(`${line}\n`);
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => createJsonLogger(minLevel, { ...bindings, ...more }, write),
  };
}

/** A child of `logger` bound to `bindings` (merging them into every record when it has no `child`). */
export function childLogger(logger: WorkerLogger, bindings: Record<string, unknown>): WorkerLogger {
  if (typeof logger.child === 'function') return logger.child(bindings);
  return {
    debug: (obj, msg) => logger.debug({ ...bindings, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...bindings, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...bindings, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...bindings, ...obj }, msg),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
  };
}

function errorFields(err: Error): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return { type: err.name, message: err.message, ...(code === undefined ? {} : { code }), stack: err.stack };
}

/** `trace_id`/`span_id` of the active span and `execution_id` of the record's `executionId`. */
function correlationFields(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext !== undefined && isSpanContextValid(spanContext)) {
    out['trace_id'] = spanContext.traceId;
    out['span_id'] = spanContext.spanId;
  }
  if (typeof record['executionId'] === 'string' && record['execution_id'] === undefined) {
    out['execution_id'] = record['executionId'];
  }
  return out;
}
