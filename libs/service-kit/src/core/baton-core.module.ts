import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { NatsConnection } from '@nats-io/nats-core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';

import { JetStreamPublisher } from '@baton/transport-jetstream';
import type { ConsumerSpec, StreamSpec } from '@baton/transport-jetstream';

import type { ParsedConfig } from '../config/env.schema';
import { HealthController } from '../health/health.controller';
import { ReadinessRegistry } from '../health/readiness.registry';
import { BatonExceptionFilter } from '../http/baton-exception.filter';
import { pinoParams } from '../http/logger.options';
import { MetricsController } from '../metrics/metrics.controller';
import { MetricsService } from '../metrics/metrics.service';
import { ServiceEndpoints } from '../micro/service-endpoints';
import {
  BATON_TELEMETRY,
  BATON_TOPOLOGY,
  ServiceLifecycle,
  connectServiceNats,
  ensureTopology,
} from './service.lifecycle';
import type { FlushOnShutdown, Topology } from './service.lifecycle';
import {
  BATON_CONFIG,
  BATON_SERVICE,
  INGRESS_LIMITS,
  NATS_CONNECTION,
  ingressLimits,
  qualifiedName,
} from './tokens';
import type { ServiceDescriptor } from './tokens';

/** Options of {@link BatonCoreModule.forRoot}. */
export interface BatonCoreOptions {
  service: ServiceDescriptor;
  /** The configuration `loadConfig` returned (common keys, possibly more). */
  config: ParsedConfig;
  /** Streams created or updated at start, checked by readiness. */
  streams?: StreamSpec[];
  /** Durable consumers created or updated at start (after the streams), checked by readiness. */
  consumers?: ConsumerSpec[];
  /** Flushed last at shutdown, after NATS drained (the handle `startTelemetry` returned). */
  telemetry?: FlushOnShutdown;
  /** @internal Where logs go instead of stdout (tests). */
  logDestination?: DestinationStream;
}

/**
 * The common surface of every Baton service (CONTRACT §1, §2), global: configuration (`BATON_CONFIG`), the
 * NATS connection `baton-<service>` (`NATS_CONNECTION`) with the declared topology ensured before anything
 * uses it, `JetStreamPublisher`, `ReadinessRegistry` with `GET /health/live|ready`, `MetricsService` with
 * `GET /metrics`, the NATS micro service with `ServiceEndpoints`, the pino logger and the error filter.
 */
@Global()
@Module({})
export class BatonCoreModule {
  static forRoot(options: BatonCoreOptions): DynamicModule {
    const topology: Topology = { streams: options.streams ?? [], consumers: options.consumers ?? [] };
    return {
      module: BatonCoreModule,
      global: true,
      imports: [
        LoggerModule.forRoot(
          pinoParams(qualifiedName(options.service), options.config.LOG_LEVEL, options.logDestination),
        ),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: BATON_CONFIG, useValue: options.config },
        { provide: BATON_SERVICE, useValue: options.service },
        { provide: BATON_TOPOLOGY, useValue: topology },
        { provide: BATON_TELEMETRY, useValue: options.telemetry ?? null },
        { provide: INGRESS_LIMITS, useValue: ingressLimits(options.config) },
        {
          provide: NATS_CONNECTION,
          inject: [BATON_CONFIG, BATON_SERVICE, BATON_TOPOLOGY],
          useFactory: async (config: ParsedConfig, service: ServiceDescriptor, declared: Topology) => {
            const nc = await connectServiceNats(config, service);
            try {
              await ensureTopology(nc, declared);
            } catch (err) {
              await nc.close();
              throw err;
            }
            return nc;
          },
        },
        {
          provide: JetStreamPublisher,
          inject: [NATS_CONNECTION],
          useFactory: (nc: NatsConnection) => new JetStreamPublisher(nc),
        },
        ReadinessRegistry,
        ServiceLifecycle,
        MetricsService,
        ServiceEndpoints,
        { provide: APP_FILTER, useClass: BatonExceptionFilter },
      ],
      exports: [
        BATON_CONFIG,
        BATON_SERVICE,
        INGRESS_LIMITS,
        NATS_CONNECTION,
        JetStreamPublisher,
        ReadinessRegistry,
        ServiceLifecycle,
        MetricsService,
        ServiceEndpoints,
      ],
    };
  }
}
