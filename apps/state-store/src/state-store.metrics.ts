import type { Counter, Histogram } from 'prom-client';

import type { HistoryGroupReport } from '@baton/persistence';
import type { MetricsService } from '@baton/service-kit';

/** Outcome of one history batch, as counted by `baton_history_batches_total`. */
export const HistoryBatchOutcome = {
  /** Committed (or already there): acked. */
  WRITTEN: 'written',
  /** Failed for now (database unavailable): redelivered later. */
  RETRIED: 'retried',
  /** Can never be written (invalid, or rejected by the database as data): dead-lettered. */
  REJECTED: 'rejected',
} as const;
export type HistoryBatchOutcome = (typeof HistoryBatchOutcome)[keyof typeof HistoryBatchOutcome];

/** The state-store's own metrics. */
export class StateStoreMetrics {
  private readonly batches: Counter<'outcome'>;
  private readonly writeSeconds: Histogram<'outcome'>;
  private readonly groupSize: Histogram;

  constructor(metrics: Pick<MetricsService, 'counter' | 'histogram'>) {
    this.batches = metrics.counter('history_batches_total', 'History batches handled, by outcome', [
      'outcome',
    ]);
    this.writeSeconds = metrics.histogram(
      'history_write_seconds',
      'Duration of one group-commit transaction of history batches, by group outcome',
      ['outcome'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.groupSize = metrics.histogram(
      'history_group_size',
      'History batches written in one transaction',
      [],
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    );
  }

  /** Counts one batch. */
  batch(outcome: HistoryBatchOutcome): void {
    this.batches.inc({ outcome });
  }

  /** Records one group transaction (the writer's `onGroup`). */
  group(report: HistoryGroupReport): void {
    this.writeSeconds.observe({ outcome: report.outcome }, report.durationSeconds);
    this.groupSize.observe(report.size);
  }
}
