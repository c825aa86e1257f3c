import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import type { ServiceInfo, ServiceStats } from '@nats-io/services';

import { BATON_CONFIG, NATS_CONNECTION } from '@baton/service-kit';

import type { TelemetryConfig } from '../config/telemetry.config';

/** Health of a service instance as seen by discovery. */
export const InstanceHealth = { UP: 'up', DOWN: 'down' } as const;
export type InstanceHealth = (typeof InstanceHealth)[keyof typeof InstanceHealth];

/** Names of Baton's micro services start with this. */
export const BATON_SERVICE_PREFIX = 'baton-';
/** An instance that stopped answering is listed as down for this long, then forgotten. */
export const FORGET_DOWN_AFTER_MS = 10 * 60 * 1000;

/** One endpoint of an instance with its `$SRV.STATS` counters. */
export interface EndpointView {
  name: string;
  subject: string;
  requests: number;
  errors: number;
  /** Average processing time, ms. */
  averageProcessingMs: number;
  lastError?: string;
}

/** Totals of an instance's `$SRV.STATS`. */
export interface InstanceStats {
  requests: number;
  errors: number;
  /** Total processing time, ms. */
  processingMs: number;
  /** When the instance started (ISO-8601). */
  started: string;
}

/** One discovered service instance. */
export interface ServiceInstanceView {
  name: string;
  id: string;
  version: string;
  description: string;
  endpoints: EndpointView[];
  /** `null` when it did not answer `$SRV.STATS` in this round. */
  stats: InstanceStats | null;
  /** `up`: it answered `$SRV.INFO` now; `down`: it answered before and no longer does. */
  health: InstanceHealth;
  /** Last time it answered (ISO-8601). */
  lastSeen: string;
}

/** `GET /v1/services`. */
export interface ServiceList {
  items: ServiceInstanceView[];
}

const NANOS_PER_MS = 1e6;

async function collect<T>(replies: Promise<AsyncIterable<T>>): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const r of await replies) out.push(r);
  } catch (err) {
    // No service answering at all ends the request with "no responders": an empty round.
    if (!/no responders|503/i.test(err instanceof Error ? err.message : String(err))) throw err;
  }
  return out;
}

/**
 * Discovers every Baton service instance over NATS micro discovery (`$SRV.INFO` and `$SRV.STATS`,
 * collecting every reply within `BATON_DISCOVERY_TIMEOUT_MS`). An instance that answers is `up`; one that
 * answered an earlier round and no longer does is listed `down` for {@link FORGET_DOWN_AFTER_MS}.
 */
@Injectable()
export class ServicesService {
  private readonly known = new Map<string, ServiceInstanceView>();

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(BATON_CONFIG) private readonly config: Pick<TelemetryConfig, 'BATON_DISCOVERY_TIMEOUT_MS'>,
  ) {}

  /** `GET /v1/services` / `services.list`: instances by name, then id. */
  async list(now = Date.now()): Promise<ServiceList> {
    // @nats-io/services is typed against its own copy of nats-core; the connection is the same object.
    const svcm = new Svcm(this.nc as unknown as ConstructorParameters<typeof Svcm>[0]);
    const client = svcm.client({ strategy: 'timer', maxWait: this.config.BATON_DISCOVERY_TIMEOUT_MS });
    const [infos, stats] = await Promise.all([collect(client.info()), collect(client.stats())]);
    return { items: this.merge(infos, stats, now) };
  }

  /** Folds one discovery round into the known instances; exported for unit tests. */
  merge(infos: ServiceInfo[], stats: ServiceStats[], now: number): ServiceInstanceView[] {
    const statsById = new Map(stats.map((s) => [s.id, s]));
    const seen = new Set<string>();
    for (const info of infos) {
      if (typeof info.name !== 'string' || !info.name.startsWith(BATON_SERVICE_PREFIX)) continue;
      seen.add(info.id);
      const s = statsById.get(info.id);
      const endpointStats = new Map((s?.endpoints ?? []).map((e) => [e.name, e]));
      this.known.set(info.id, {
        name: info.name,
        id: info.id,
        version: info.version,
        description: info.description ?? '',
        endpoints: (info.endpoints ?? []).map((e): EndpointView => {
          const es = endpointStats.get(e.name);
          return {
            name: e.name,
            subject: e.subject,
            requests: es?.num_requests ?? 0,
            errors: es?.num_errors ?? 0,
            averageProcessingMs: (es?.average_processing_time ?? 0) / NANOS_PER_MS,
            ...(es?.last_error ? { lastError: es.last_error } : {}),
          };
        }),
        stats: s
          ? {
              requests: (s.endpoints ?? []).reduce((n, e) => n + e.num_requests, 0),
              errors: (s.endpoints ?? []).reduce((n, e) => n + e.num_errors, 0),
              processingMs: (s.endpoints ?? []).reduce((n, e) => n + e.processing_time, 0) / NANOS_PER_MS,
              started: s.started,
            }
          : null,
        health: InstanceHealth.UP,
        lastSeen: new Date(now).toISOString(),
      });
    }
    for (const [id, view] of this.known) {
      if (seen.has(id)) continue;
      if (now - Date.parse(view.lastSeen) > FORGET_DOWN_AFTER_MS) this.known.delete(id);
      else this.known.set(id, { ...view, health: InstanceHealth.DOWN, stats: null });
    }
    return [...this.known.values()].sort((a, b) =>
      a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1,
    );
  }
}
