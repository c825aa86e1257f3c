import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';

import { BatonError, ErrorCode } from '@baton/contracts';
import { checkTopology, connectNats, ensureConsumer, ensureStreams } from '@baton/transport-jetstream';
import type { ConsumerSpec, StreamSpec } from '@baton/transport-jetstream';

import { redactUrlPassword } from '../config/config.loader';
import type { ParsedConfig } from '../config/env.schema';
import { ReadinessRegistry } from '../health/readiness.registry';
import { BATON_CONFIG, NATS_CONNECTION, qualifiedName } from './tokens';
import type { ServiceDescriptor } from './tokens';

/** A round trip to the NATS server must complete within this bound for `nats` to be ready. */
const NATS_RTT_TIMEOUT_MS = 2_000;

/** Streams and consumers a service declares and needs (ensured at start, checked by readiness). */
export interface Topology {
  streams: StreamSpec[];
  consumers: ConsumerSpec[];
}

/** Injection token of the service's {@link Topology}. */
export const BATON_TOPOLOGY = Symbol.for('baton.topology');

/** Something flushed last at shutdown, after NATS drained (the telemetry SDK's handle). */
export interface FlushOnShutdown {
  shutdown(): Promise<void>;
}

/** Injection token of the optional {@link FlushOnShutdown} (the telemetry handle). */
export const BATON_TELEMETRY = Symbol.for('baton.telemetry');

/** Connects as `baton-<service>` with the configured servers and credentials; the error names the servers. */
export async function connectServiceNats(
  config: ParsedConfig,
  service: ServiceDescriptor,
): Promise<NatsConnection> {
  try {
    return await connectNats({
      servers: config.NATS_URL,
      name: qualifiedName(service),
      ...(config.NATS_USER !== undefined ? { user: config.NATS_USER } : {}),
      ...(config.NATS_PASSWORD !== undefined ? { password: config.NATS_PASSWORD } : {}),
      ...(config.NATS_CREDS !== undefined ? { credsFile: config.NATS_CREDS } : {}),
    });
  } catch (err) {
    const servers = redactUrlPassword(config.NATS_URL.join(','));
    throw new BatonError(
      ErrorCode.UNAVAILABLE,
      `cannot connect to NATS at ${servers}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Creates or updates the declared streams, then the consumers. */
export async function ensureTopology(nc: NatsConnection, topology: Topology): Promise<void> {
  if (topology.streams.length > 0) await ensureStreams(nc, topology.streams);
  for (const consumer of topology.consumers) await ensureConsumer(nc, consumer);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BatonError(ErrorCode.UNAVAILABLE, `${what} timed out after ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Owns the service's NATS connection once made and orders the shutdown: registers the `nats` and
 * `topology` readiness checks; at shutdown stops consuming first (steps added by {@link onStopConsuming}),
 * then — after Nest closed the HTTP server — drains the connection (bounded by `BATON_DRAIN_TIMEOUT_MS`)
 * and finally flushes telemetry.
 */
@Injectable()
export class ServiceLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('ServiceLifecycle');
  private readonly stopConsuming: (() => Promise<void>)[] = [];
  private readonly servedConsumers: { stream: string; durable: string }[] = [];

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(BATON_CONFIG) private readonly config: ParsedConfig,
    @Inject(BATON_TOPOLOGY) private readonly topology: Topology,
    @Inject(BATON_TELEMETRY) private readonly telemetry: FlushOnShutdown | null,
    readiness: ReadinessRegistry,
  ) {
    readiness.add('nats', () => this.checkConnected());
    readiness.add('topology', () => this.checkTopology());
  }

  /**
   * Registers a step of "stop consuming" (the JetStream transport's close), run before the HTTP server and
   * the connection close. Steps run in registration order; each is awaited.
   */
  onStopConsuming(step: () => Promise<void>): void {
    this.stopConsuming.push(step);
  }

  /** Adds consumers declared elsewhere (the transport's `@JetStreamConsumer` handlers) to the topology check. */
  requireConsumers(consumers: { stream: string; durable: string }[]): void {
    for (const { stream, durable } of consumers) this.servedConsumers.push({ stream, durable });
  }

  async checkConnected(): Promise<void> {
    if (this.nc.isClosed()) throw new BatonError(ErrorCode.UNAVAILABLE, 'connection closed');
    if (this.nc.isDraining()) throw new BatonError(ErrorCode.UNAVAILABLE, 'connection draining');
    await withTimeout(this.nc.rtt(), NATS_RTT_TIMEOUT_MS, 'round trip to the NATS server');
  }

  async checkTopology(): Promise<void> {
    const result = await checkTopology(this.nc, {
      streams: this.topology.streams.map((s) => s.name),
      consumers: [
        ...this.topology.consumers.map((c) => ({ stream: c.stream, durable: c.durable })),
        ...this.servedConsumers,
      ],
    });
    if (!result.ok) throw new BatonError(ErrorCode.UNAVAILABLE, `missing ${result.missing.join(', ')}`);
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`shutting down${signal ? ` on ${signal}` : ''}: stopping consumers`);
    for (const step of this.stopConsuming.splice(0)) {
      try {
        await step();
      } catch (err) {
        this.logger.error({ err }, 'stopping a consumer failed');
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drainNats();
    this.logger.log('NATS connection drained');
    try {
      await this.telemetry?.shutdown();
    } catch (err) {
      this.logger.warn({ err }, 'flushing telemetry failed');
    }
  }

  private async drainNats(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await withTimeout(this.nc.drain(), this.config.BATON_DRAIN_TIMEOUT_MS, 'draining the NATS connection');
    } catch (err) {
      this.logger.warn({ err }, 'NATS drain did not finish; closing');
      await this.nc.close();
    }
  }
}
