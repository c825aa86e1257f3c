import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

import { BATON_SERVICE, qualifiedName } from '../core/tokens';
import type { ServiceDescriptor } from '../core/tokens';

/** Prefix of Baton's own metrics (`baton_step_duration_seconds`). */
export const METRIC_PREFIX = 'baton_';

const METRIC_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The service's one Prometheus registry: default Node.js/process metrics plus Baton's own, all labelled
 * `service="baton-<name>"`, scraped at `GET /metrics`. The helpers prefix names with `baton_` and are
 * idempotent by name, so any provider can ask for the metric it updates.
 * Use base units in names (`_seconds`, `_bytes`, `_total`) and low-cardinality labels (never ids).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor(@Inject(BATON_SERVICE) service: ServiceDescriptor) {
    this.registry.setDefaultLabels({ service: qualifiedName(service) });
    collectDefaultMetrics({ register: this.registry });
  }

  /** A counter `baton_<name>` (`name` may already carry the prefix). */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.getOrCreate(
      name,
      Counter,
      () => new Counter<L>({ name: this.fullName(name), help, labelNames, registers: [this.registry] }),
    );
  }

  /** A histogram `baton_<name>`; `buckets` default to prom-client's (seconds-oriented). */
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: number[],
  ): Histogram<L> {
    return this.getOrCreate(
      name,
      Histogram,
      () =>
        new Histogram<L>({
          name: this.fullName(name),
          help,
          labelNames,
          registers: [this.registry],
          ...(buckets ? { buckets } : {}),
        }),
    );
  }

  /** A gauge `baton_<name>`. */
  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.getOrCreate(
      name,
      Gauge,
      () => new Gauge<L>({ name: this.fullName(name), help, labelNames, registers: [this.registry] }),
    );
  }

  /** Every metric in the Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  private fullName(name: string): string {
    const full = name.startsWith(METRIC_PREFIX) ? name : `${METRIC_PREFIX}${name}`;
    if (!METRIC_NAME.test(full)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    return full;
  }

  private getOrCreate<M extends Metric<string>>(
    name: string,
    kind: abstract new (...args: never[]) => M,
    create: () => M,
  ): M {
    const existing = this.registry.getSingleMetric(this.fullName(name));
    if (existing === undefined) return create();
    if (!(existing instanceof kind)) {
      throw new Error(`metric ${this.fullName(name)} is already registered as another kind`);
    }
    return existing;
  }
}
