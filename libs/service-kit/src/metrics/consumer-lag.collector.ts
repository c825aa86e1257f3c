import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** What the collector reads of one durable consumer (the fields of JetStream's consumer info). */
export interface ConsumerLag {
  num_pending: number;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
}

export type ConsumerLagReader = (stream: string, durable: string) => Promise<ConsumerLag>;

/** Reads consumer info with the service's own connection. */
export function natsConsumerLagReader(nc: NatsConnection): ConsumerLagReader {
  return async (stream, durable) => {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    return jsm.consumers.info(stream, durable);
  };
}

/**
 * Gauges of the durable consumers a service takes messages from, read from JetStream when Prometheus
 * scrapes (no polling in between): `baton_consumer_pending_messages` (not yet delivered: the lag),
 * `baton_consumer_ack_pending_messages` (delivered, not yet acked), `baton_consumer_redelivered_messages`,
 * labelled `stream` and `durable`. A consumer that cannot be read is left out of that scrape.
 */
export function registerConsumerLagGauges(
  registry: Registry,
  consumers: readonly { stream: string; durable: string }[],
  read: ConsumerLagReader,
): void {
  let inFlight: Promise<Map<string, ConsumerLag>> | undefined;
  const snapshot = (): Promise<Map<string, ConsumerLag>> => {
    // The three gauges collect in one scrape: read each consumer once per scrape.
    inFlight ??= (async () => {
      const out = new Map<string, ConsumerLag>();
      await Promise.all(
        consumers.map(async (c) => {
          try {
            out.set(`${c.stream}\u0000${c.durable}`, await read(c.stream, c.durable));
          } catch {
            // unreadable now (server restarting, consumer re-created): no sample this scrape
          }
        }),
      );
      return out;
    })().finally(() => setTimeout(() => (inFlight = undefined), 0));
    return inFlight;
  };
  const gauge = (name: string, help: string, pick: (lag: ConsumerLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['stream', 'durable'],
      registers: [registry],
      async collect() {
        this.reset();
        const lags = await snapshot();
        for (const c of consumers) {
          const lag = lags.get(`${c.stream}\u0000${c.durable}`);
          if (lag) this.set({ stream: c.stream, durable: c.durable }, pick(lag));
        }
      },
    });
  gauge(
    'baton_consumer_pending_messages',
    'Messages not yet delivered to the durable consumer (its lag)',
    (l) => l.num_pending,
  );
  gauge(
    'baton_consumer_ack_pending_messages',
    'Messages delivered and not yet acknowledged',
    (l) => l.num_ack_pending,
  );
  gauge(
    'baton_consumer_redelivered_messages',
    'Messages delivered more than once and not yet acknowledged',
    (l) => l.num_redelivered,
  );
}
