import { Logger as NestLogger } from '@nestjs/common';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { NatsConnection } from '@nats-io/nats-core';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';

import { JetStreamServer } from '@baton/transport-jetstream';
import type { ConsumerOverride, ConsumerSpec, MessageOutcome, StreamSpec } from '@baton/transport-jetstream';

import type { ParsedConfig } from '../config/env.schema';
import { BatonCoreModule } from '../core/baton-core.module';
import { ServiceLifecycle } from '../core/service.lifecycle';
import type { FlushOnShutdown } from '../core/service.lifecycle';
import { NATS_CONNECTION, httpPort, ingressLimits, qualifiedName } from '../core/tokens';
import type { ServiceDescriptor } from '../core/tokens';
import { installHttpPipeline } from '../http/http-pipeline';
import { natsConsumerLagReader, registerConsumerLagGauges } from '../metrics/consumer-lag.collector';
import { MetricsService } from '../metrics/metrics.service';

/** Options of {@link bootstrapService}. */
export interface BootstrapOptions {
  service: ServiceDescriptor;
  /** The service's own module (its controllers, handlers, providers). */
  module: Type<unknown> | DynamicModule;
  /** The configuration `loadConfig` returned. */
  config: ParsedConfig;
  /** Connect a `JetStreamServer` (sharing the NATS connection) for the `@JetStreamConsumer` handlers. */
  transport?: boolean;
  /** Per-durable consumer settings from configuration, replacing the decorators' (e.g. concurrency). */
  consumerOverrides?: Readonly<Record<string, ConsumerOverride>>;
  /** Streams ensured at start and checked by readiness. */
  streams?: StreamSpec[];
  /** Durable consumers ensured at start and checked by readiness. */
  consumers?: ConsumerSpec[];
  /** Flushed last at shutdown (the handle `startTelemetry` returned). */
  telemetry?: FlushOnShutdown;
  /** Handle SIGTERM/SIGINT: stop consuming, close HTTP, drain NATS, exit 0. Default true. */
  shutdownHooks?: boolean;
  /** Interface to listen on; default all interfaces. */
  host?: string;
  /** @internal Where logs go instead of stdout (tests). */
  logDestination?: DestinationStream;
}

/** Bearer scheme name in the OpenAPI document. */
const BEARER = 'bearer';

/** The OpenAPI document of the app: `/v1` operations require the bearer token. */
export function buildOpenApiDocument(app: INestApplication, service: ServiceDescriptor): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(qualifiedName(service))
    .setDescription(service.description)
    .setVersion(service.version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'BATON_API_TOKEN' }, BEARER)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/v1/') && path !== '/v1') continue;
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const) {
      const operation = item[method];
      if (operation) operation.security = [{ [BEARER]: [] }];
    }
  }
  return document;
}

/**
 * Counts transport outcomes of every durable consumer: `baton_messages_processed_total{durable,outcome}`,
 * the handler latency histogram `baton_message_processing_seconds{durable,outcome}`,
 * `baton_message_redeliveries_total{durable}` (deliveries after the first) and
 * `baton_dead_letters_total{durable,code}` (messages this service stored in BATON_DLQ, by error code).
 */
export function outcomeRecorder(metrics: MetricsService): (outcome: MessageOutcome) => void {
  const processed = metrics.counter('messages_processed_total', 'JetStream deliveries by outcome', [
    'durable',
    'outcome',
  ]);
  const duration = metrics.histogram('message_processing_seconds', 'Handling time of JetStream deliveries', [
    'durable',
    'outcome',
  ]);
  const redeliveries = metrics.counter(
    'message_redeliveries_total',
    'JetStream deliveries after the first of a message (redeliveries), by durable consumer',
    ['durable'],
  );
  const deadLetters = metrics.counter(
    'dead_letters_total',
    'Messages stored in BATON_DLQ by this service, by durable consumer and error code',
    ['durable', 'code'],
  );
  return (o) => {
    processed.inc({ durable: o.durable, outcome: o.outcome });
    duration.observe({ durable: o.durable, outcome: o.outcome }, o.durationMs / 1000);
    if (o.deliveryCount > 1) redeliveries.inc({ durable: o.durable });
    if (o.outcome === 'dead') deadLetters.inc({ durable: o.durable, code: o.errorCode ?? 'INTERNAL' });
  };
}

/**
 * Creates, starts and returns a Baton service: Express app with the pino logger, OpenAPI at `/docs`,
 * the error filter, JSON/YAML body parsing within the ingress limits, the `/v1` bearer guard, the core
 * module (NATS, health, metrics, micro service), the JetStream transport when asked, shutdown hooks;
 * listens on `PORT` (or the service's default) and logs `baton-<service> listening on :<port>`.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<INestApplication> {
  const { service, config } = options;
  const root: DynamicModule = {
    module: class BatonServiceRootModule {},
    imports: [
      BatonCoreModule.forRoot({
        service,
        config,
        ...(options.streams ? { streams: options.streams } : {}),
        ...(options.consumers ? { consumers: options.consumers } : {}),
        ...(options.telemetry ? { telemetry: options.telemetry } : {}),
        ...(options.logDestination ? { logDestination: options.logDestination } : {}),
      }),
      options.module,
    ],
  };
  const app = await NestFactory.create<NestExpressApplication>(root, new ExpressAdapter(), {
    bufferLogs: true,
    // A failure to create the app is reported by the caller as one line: the buffered startup logs are
    // only flushed once the JSON logger is in place.
    autoFlushLogs: false,
    bodyParser: false,
    abortOnError: false,
  });
  try {
    app.useLogger(app.get(Logger));
    app.flushLogs();
    app.disable('x-powered-by');
    installHttpPipeline(app, {
      limits: ingressLimits(config),
      ...(config.BATON_API_TOKEN !== undefined ? { apiToken: config.BATON_API_TOKEN } : {}),
    });
    SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, service), {
      jsonDocumentUrl: 'docs-json',
    });
    if (options.shutdownHooks ?? true)
      app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });

    let strategy: JetStreamServer | undefined;
    if (options.transport) {
      const nc = app.get<NatsConnection>(NATS_CONNECTION);
      const server = new JetStreamServer({
        connection: () => nc,
        limits: ingressLimits(config),
        drainTimeoutMs: config.BATON_DRAIN_TIMEOUT_MS,
        ...(options.consumerOverrides ? { consumerOverrides: options.consumerOverrides } : {}),
        onOutcome: outcomeRecorder(app.get(MetricsService)),
      });
      app.connectMicroservice({ strategy: server });
      // At shutdown, stop consuming first: before the HTTP server and the NATS connection close.
      app.get(ServiceLifecycle).onStopConsuming(() => server.close());
      strategy = server;
    }
    // Runs onModuleInit (endpoints and readiness checks are added) and onApplicationBootstrap (the micro
    // service registers with its endpoints).
    await app.init();
    if (strategy) {
      await app.startAllMicroservices();
      app.get(ServiceLifecycle).requireConsumers(strategy.consumers());
      registerConsumerLagGauges(
        app.get(MetricsService).registry,
        strategy.consumers(),
        natsConsumerLagReader(app.get<NatsConnection>(NATS_CONNECTION)),
      );
    }

    await app.listen(httpPort(config, service), options.host ?? '0.0.0.0');
    const address = app.getHttpServer().address() as { port: number } | string | null;
    const port = typeof address === 'object' && address !== null ? address.port : httpPort(config, service);
    new NestLogger('Bootstrap').log(`${qualifiedName(service)} listening on :${port}`);
    return app;
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
}
