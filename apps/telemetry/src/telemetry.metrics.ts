import type { Counter, Histogram } from 'prom-client';

import type { AnalyticsOutcome } from '@baton/persistence';
import type { MetricsService } from '@baton/service-kit';

/** Outcome label of `baton_analytics_batches_total`: the writer's outcomes, or a failure. */
export type AnalyticsBatchLabel = AnalyticsOutcome | 'retried' | 'rejected';

/** The telemetry service's own metrics. */
export class TelemetryMetrics {
  private readonly batches: Counter<'outcome'>;
  private readonly groupSeconds: Histogram<'outcome'>;

  constructor(metrics: Pick<MetricsService, 'counter' | 'histogram'>) {
    this.batches = metrics.counter(
      'analytics_batches_total',
      'History batches handled by the analytics, by outcome',
      ['outcome'],
    );
    this.groupSeconds = metrics.histogram(
      'analytics_write_seconds',
      'Duration of one analytics group-commit transaction, by outcome',
      ['outcome'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
  }

  /** Counts one batch. */
  batch(outcome: AnalyticsBatchLabel): void {
    this.batches.inc({ outcome });
  }

  /** Records one group transaction (the writer's `onGroup`). */
  group(report: { durationSeconds: number; committed: boolean }): void {
    this.groupSeconds.observe({ outcome: report.committed ? 'committed' : 'failed' }, report.durationSeconds);
  }
}
