import { hostname } from 'node:os';

import { BatonError, ErrorCode, randomId } from '@baton/contracts';

import { createJsonLogger } from './worker.logger';
import type { WorkerLogger, WorkerOptions } from './worker.types';

/** Defaults of {@link WorkerOptions}. */
export const WORKER_DEFAULTS = {
  servers: 'nats://127.0.0.1:4222',
  concurrency: 8,
  ackWaitMs: 30_000,
  drainTimeoutMs: 30_000,
} as const;

/** Largest accepted `concurrency`. */
export const MAX_CONCURRENCY = 1024;
/** Smallest accepted `ackWaitMs`. */
export const MIN_ACK_WAIT_MS = 1_000;

/** {@link WorkerOptions} checked and completed with defaults. */
export interface ResolvedWorkerOptions {
  servers: string[];
  name: string;
  user?: string;
  password?: string;
  credsFile?: string;
  concurrency: number;
  ackWaitMs: number;
  drainTimeoutMs: number;
  logger: WorkerLogger;
}

/** Checks options (throwing VALIDATION_FAILED naming the bad one) and fills in defaults. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const servers = parseServers(options.servers);
  if (options.user !== undefined && options.password === undefined)
    invalid('password', 'is required with user');
  if (options.password !== undefined && options.user === undefined)
    invalid('user', 'is required with password');
  if (options.credsFile !== undefined && options.user !== undefined) {
    invalid('credsFile', 'cannot be combined with user/password');
  }
  const name = options.name ?? `${hostname()}-${process.pid}-${randomId().slice(0, 6)}`;
  if (name.length === 0 || name.length > 256 || /[\r\n]/.test(name)) {
    invalid('name', 'must be 1-256 characters on one line');
  }
  return {
    servers,
    name,
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.credsFile === undefined ? {} : { credsFile: options.credsFile }),
    concurrency: checkConcurrency(options.concurrency ?? WORKER_DEFAULTS.concurrency, 'concurrency'),
    ackWaitMs: checkInteger(options.ackWaitMs ?? WORKER_DEFAULTS.ackWaitMs, 'ackWaitMs', MIN_ACK_WAIT_MS),
    drainTimeoutMs: checkInteger(
      options.drainTimeoutMs ?? WORKER_DEFAULTS.drainTimeoutMs,
      'drainTimeoutMs',
      0,
    ),
    logger: options.logger ?? createJsonLogger(),
  };
}

/** Checks a per-action concurrency (an integer from 1 to {@link MAX_CONCURRENCY}). */
export function checkConcurrency(value: number, name: string): number {
  checkInteger(value, name, 1);
  if (value > MAX_CONCURRENCY) invalid(name, `must be at most ${MAX_CONCURRENCY}`);
  return value;
}

function parseServers(value: string | string[] | undefined): string[] {
  const list = (Array.isArray(value) ? value : (value ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return list.length > 0 ? list : [WORKER_DEFAULTS.servers];
}

function checkInteger(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) invalid(name, `must be an integer >= ${min}`);
  return value;
}

function invalid(option: string, message: string): never {
  throw new BatonError(ErrorCode.VALIDATION_FAILED, `worker option ${option} ${message}`, {
    details: [{ path: `/${option}`, message, rule: option }],
    retryable: false,
  });
}
