import { accessSync, constants } from 'node:fs';

import { z } from 'zod';

import { DEFAULT_LIMITS } from '@baton/contracts';

/** pino levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/baton';
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * An env value parsed by `parse`, which returns `undefined` for a bad value; `requirement` completes the
 * sentence "<KEY> ..." of the error line (`must be an integer between 1 and 65535`).
 */
function envValue<T>(requirement: string, parse: (raw: string) => T | undefined) {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw.trim());
    if (value === undefined) {
      ctx.issues.push({ code: 'custom', message: requirement, input: raw });
      return z.NEVER;
    }
    return value;
  });
}

function integer(min: number, max: number) {
  return envValue(`must be an integer between ${min} and ${max}`, (raw) => {
    if (!/^\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

function url(requirement: string, protocols: readonly string[]) {
  return envValue(requirement, (raw) => {
    try {
      const parsed = new URL(raw);
      return protocols.includes(parsed.protocol) && parsed.hostname.length > 0 ? raw : undefined;
    } catch {
      return undefined;
    }
  });
}

const NATS_PROTOCOLS = ['nats:', 'tls:', 'ws:', 'wss:'];

/** One NATS server: a `nats://`, `tls://`, `ws://` or `wss://` URL, or `host:port`. */
function isNatsServer(entry: string): boolean {
  if (entry.includes('://')) {
    try {
      const parsed = new URL(entry);
      return NATS_PROTOCOLS.includes(parsed.protocol) && parsed.hostname.length > 0;
    } catch {
      return false;
    }
  }
  return /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(entry) || /^[A-Za-z0-9.-]+$/.test(entry);
}

const natsServers = envValue(
  'must be a comma-separated list of NATS server URLs (nats://host:port)',
  (raw): string[] | undefined => {
    const servers = raw.split(',').map((s) => s.trim());
    return servers.length > 0 && servers.every((s) => s.length > 0 && isNatsServer(s)) ? servers : undefined;
  },
);

const readableFile = envValue('must be the path of a readable file', (raw) => {
  if (raw.length === 0) return undefined;
  try {
    accessSync(raw, constants.R_OK);
    return raw;
  } catch {
    return undefined;
  }
});

const nonEmpty = envValue('must not be empty', (raw) => (raw.length > 0 ? raw : undefined));

const logLevel = envValue(`must be one of ${LOG_LEVELS.join(', ')}`, (raw): LogLevel | undefined =>
  (LOG_LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : undefined,
);

/**
 * Settings of every service (CONTRACT §1). Env values are strings; empty values count as unset.
 * `PORT` is optional here: each service has its own default (`ServiceDescriptor.defaultPort`).
 */
export const commonEnvSchema = z
  .object({
    NATS_URL: natsServers.default([DEFAULT_NATS_URL]),
    NATS_CREDS: readableFile.optional(),
    NATS_USER: nonEmpty.optional(),
    NATS_PASSWORD: nonEmpty.optional(),
    PORT: integer(1, 65535).optional(),
    LOG_LEVEL: logLevel.default('info'),
    BATON_API_TOKEN: nonEmpty.optional(),
    OTEL_EXPORTER_OTLP_ENDPOINT: url('must be an http(s) URL', ['http:', 'https:']).optional(),
    BATON_MAX_PAYLOAD_BYTES: integer(1, 64 * 1024 * 1024).default(DEFAULT_LIMITS.maxPayloadBytes),
    BATON_MAX_JSON_DEPTH: integer(1, 1000).default(DEFAULT_LIMITS.maxJsonDepth),
    BATON_DRAIN_TIMEOUT_MS: integer(0, 10 * 60 * 1000).default(DEFAULT_DRAIN_TIMEOUT_MS),
  })
  .superRefine((env, ctx) => {
    if (env.NATS_USER !== undefined && env.NATS_PASSWORD === undefined) {
      ctx.addIssue({ code: 'custom', path: ['NATS_PASSWORD'], message: 'must be set when NATS_USER is set' });
    }
    if (env.NATS_PASSWORD !== undefined && env.NATS_USER === undefined) {
      ctx.addIssue({ code: 'custom', path: ['NATS_USER'], message: 'must be set when NATS_PASSWORD is set' });
    }
  });

/** Settings of services that use PostgreSQL (state-store, rule-engine, scheduler). */
export const databaseEnvSchema = z.object({
  DATABASE_URL: url('must be a postgres:// or postgresql:// URL', ['postgres:', 'postgresql:']).default(
    DEFAULT_DATABASE_URL,
  ),
});

/** `commonEnvSchema` plus `databaseEnvSchema`, for services with a database. */
export const databaseServiceEnvSchema = commonEnvSchema.safeExtend(databaseEnvSchema.shape);

/** Parsed common settings. */
export type CommonConfig = z.output<typeof commonEnvSchema>;
/** Parsed database settings. */
export type DatabaseConfig = z.output<typeof databaseEnvSchema>;
/** Parsed settings of a service with a database. */
export type DatabaseServiceConfig = CommonConfig & DatabaseConfig;
/** What `BatonCoreModule` and `bootstrapService` need: the common settings, possibly with more keys. */
export type ParsedConfig = CommonConfig;
