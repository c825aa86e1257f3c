import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import type { z } from 'zod';

import type { ConsumerOverride, ConsumerSpec, StreamSpec } from '@baton/transport-jetstream';

import { isConfigError, loadConfig, redactUrlPassword } from '../config/config.loader';
import type { ParsedConfig } from '../config/env.schema';
import type { FlushOnShutdown } from '../core/service.lifecycle';
import { qualifiedName } from '../core/tokens';
import type { ServiceDescriptor } from '../core/tokens';
import { bootstrapService } from './bootstrap-service';

/** Options of {@link runService}. */
export interface RunServiceOptions<S extends z.ZodType<ParsedConfig>> {
  service: ServiceDescriptor;
  module: Type<unknown> | DynamicModule;
  /** The service's env schema: `commonEnvSchema`, or one extending it (`databaseServiceEnvSchema`). */
  envSchema: S;
  transport?: boolean;
  /** Per-durable consumer settings computed from the loaded configuration (e.g. concurrency). */
  consumerOverrides?: (config: z.output<S>) => Readonly<Record<string, ConsumerOverride>>;
  streams?: StreamSpec[];
  consumers?: ConsumerSpec[];
  /** The handle `startTelemetry` returned in `instrumentation.ts`: flushed last at shutdown. */
  telemetry?: FlushOnShutdown;
  /** @internal Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The whole of a service's `main.ts`: loads the configuration (a bad setting prints one line per bad key
 * to stderr and exits 1 before anything connects), then {@link bootstrapService}. A failure to start is
 * printed as one line and exits 1.
 */
export async function runService<S extends z.ZodType<ParsedConfig>>(
  options: RunServiceOptions<S>,
): Promise<INestApplication> {
  let config: z.output<S>;
  try {
    config = loadConfig(options.envSchema, options.env ?? process.env);
  } catch (err) {
    if (isConfigError(err)) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  try {
    return await bootstrapService({
      service: options.service,
      module: options.module,
      config,
      ...(options.transport !== undefined ? { transport: options.transport } : {}),
      ...(options.consumerOverrides ? { consumerOverrides: options.consumerOverrides(config) } : {}),
      ...(options.streams ? { streams: options.streams } : {}),
      ...(options.consumers ? { consumers: options.consumers } : {}),
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    });
  } catch (err) {
    const message = redactUrlPassword(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    process.stderr.write(`${qualifiedName(options.service)} failed to start: ${message}\n`);
    await options.telemetry?.shutdown().catch(() => undefined);
    process.exit(1);
  }
}
