import type { DataSource } from 'typeorm';

import { EXECUTION_ROW } from './analytics-batch.deltas';
import { type AnalyticsWindow, windowStart } from './analytics-window';
import {
  type DurationHistogram,
  type DurationPercentiles,
  addToHistogram,
  percentilesOf,
} from './duration-histogram';

/** Statistics of one workflow's executions in a window. */
export interface WorkflowAnalytics {
  workflowId: string;
  window: AnalyticsWindow;
  /** Start of the first minute counted (ISO-8601). */
  from: string;
  /** Executions started in the window. */
  started: number;
  /** Executions finished in the window, by terminal status. */
  completed: number;
  failed: number;
  compensated: number;
  terminated: number;
  /** completed + failed + compensated + terminated. */
  finished: number;
  /** completed / finished (0..1), `null` when none finished. */
  successRate: number | null;
  /** Duration percentiles of the executions finished in the window (ms; log-scale buckets, ~4.4 %). */
  durationMs: DurationPercentiles;
}

/** Statistics of one step of a workflow in a window. */
export interface StepAnalytics {
  stepId: string;
  /** Finished runs of the step (completed + failures). */
  count: number;
  completed: number;
  failures: number;
  /** completed / count (0..1), `null` when count is 0. */
  successRate: number | null;
  /** Step duration percentiles (ms; log-scale buckets, ~4.4 %). */
  durationMs: DurationPercentiles;
  /** Average attempt number of the finished runs, `null` when count is 0. */
  averageAttempts: number | null;
}

interface StatsRow {
  workflow_id: string;
  step_id: string;
  started: string;
  completed: string;
  failed: string;
  compensated: string;
  terminated: string;
  attempts: string;
}

interface BucketRow {
  workflow_id: string;
  step_id: string;
  bucket: number;
  n: string;
}

const STATS = `
  SELECT workflow_id, step_id, sum(started) AS started, sum(completed) AS completed, sum(failed) AS failed,
         sum(compensated) AS compensated, sum(terminated) AS terminated, sum(attempts) AS attempts
    FROM telemetry_minute_stats`;
const BUCKETS = `
  SELECT workflow_id, step_id, bucket, sum(count) AS n
    FROM telemetry_minute_durations`;

const ratio = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;

/** Reads the analytics: sums of the per-minute rows of a window, percentiles from the merged histograms. */
export class AnalyticsRepository {
  constructor(private readonly ds: DataSource) {}

  /** Every workflow with executions started or finished in the window, by id. */
  async listWorkflows(window: AnalyticsWindow, now: Date = new Date()): Promise<WorkflowAnalytics[]> {
    const from = windowStart(window, now);
    const [stats, buckets] = await Promise.all([
      this.ds.query<StatsRow[]>(
        `${STATS} WHERE minute >= $1 AND step_id = $2 GROUP BY workflow_id, step_id`,
        [from, EXECUTION_ROW],
      ),
      this.ds.query<BucketRow[]>(
        `${BUCKETS} WHERE minute >= $1 AND step_id = $2 GROUP BY workflow_id, step_id, bucket`,
        [from, EXECUTION_ROW],
      ),
    ]);
    const histograms = histogramsBy(buckets, (r) => r.workflow_id);
    return stats
      .map((r) => toWorkflow(r, window, from, histograms.get(r.workflow_id)))
      .sort((a, b) => (a.workflowId < b.workflowId ? -1 : a.workflowId > b.workflowId ? 1 : 0));
  }

  /**
   * One workflow in the window (zeros when nothing happened in it); `null` when no execution of the
   * workflow is recorded at all (within the retention).
   */
  async getWorkflow(
    workflowId: string,
    window: AnalyticsWindow,
    now: Date = new Date(),
  ): Promise<WorkflowAnalytics | null> {
    if (!(await this.known(workflowId))) return null;
    const from = windowStart(window, now);
    const [stats, buckets] = await Promise.all([
      this.ds.query<StatsRow[]>(
        `${STATS} WHERE workflow_id = $1 AND step_id = $2 AND minute >= $3 GROUP BY workflow_id, step_id`,
        [workflowId, EXECUTION_ROW, from],
      ),
      this.ds.query<BucketRow[]>(
        `${BUCKETS} WHERE workflow_id = $1 AND step_id = $2 AND minute >= $3 GROUP BY workflow_id, step_id, bucket`,
        [workflowId, EXECUTION_ROW, from],
      ),
    ]);
    const row = stats[0] ?? zeroRow(workflowId, EXECUTION_ROW);
    return toWorkflow(row, window, from, histogramsBy(buckets, () => workflowId).get(workflowId));
  }

  /** The steps of a workflow that finished in the window, by step id; `null` for an unknown workflow. */
  async getSteps(
    workflowId: string,
    window: AnalyticsWindow,
    now: Date = new Date(),
  ): Promise<StepAnalytics[] | null> {
    if (!(await this.known(workflowId))) return null;
    const from = windowStart(window, now);
    const [stats, buckets] = await Promise.all([
      this.ds.query<StatsRow[]>(
        `${STATS} WHERE workflow_id = $1 AND step_id <> $2 AND minute >= $3 GROUP BY workflow_id, step_id`,
        [workflowId, EXECUTION_ROW, from],
      ),
      this.ds.query<BucketRow[]>(
        `${BUCKETS} WHERE workflow_id = $1 AND step_id <> $2 AND minute >= $3 GROUP BY workflow_id, step_id, bucket`,
        [workflowId, EXECUTION_ROW, from],
      ),
    ]);
    const histograms = histogramsBy(buckets, (r) => r.step_id);
    return stats
      .map((r): StepAnalytics => {
        const completed = Number(r.completed);
        const failures = Number(r.failed);
        const count = completed + failures;
        const attempts = Number(r.attempts);
        return {
          stepId: r.step_id,
          count,
          completed,
          failures,
          successRate: ratio(completed, count),
          durationMs: percentilesOf(histograms.get(r.step_id) ?? new Map<number, number>()),
          averageAttempts: count === 0 ? null : Math.round((attempts / count) * 1000) / 1000,
        };
      })
      .sort((a, b) => (a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0));
  }

  /**
   * Deletes minute rows older than `before` and dedupe records processed before it. Safe once `before` is
   * older than the longest window: a batch processed before it only holds events older than every window.
   */
  async prune(before: Date): Promise<{ minutes: number; batches: number }> {
    const del = (sql: string) => this.ds.query<[unknown, number]>(sql, [before]);
    const [, stats] = await del(`DELETE FROM telemetry_minute_stats WHERE minute < $1`);
    const [, durations] = await del(`DELETE FROM telemetry_minute_durations WHERE minute < $1`);
    const [, batches] = await del(`DELETE FROM telemetry_processed_batches WHERE processed_at < $1`);
    return { minutes: stats + durations, batches };
  }

  private async known(workflowId: string): Promise<boolean> {
    const rows = await this.ds.query<unknown[]>(
      `SELECT 1 FROM telemetry_minute_stats WHERE workflow_id = $1 LIMIT 1`,
      [workflowId],
    );
    return rows.length > 0;
  }
}

function zeroRow(workflowId: string, stepId: string): StatsRow {
  return {
    workflow_id: workflowId,
    step_id: stepId,
    started: '0',
    completed: '0',
    failed: '0',
    compensated: '0',
    terminated: '0',
    attempts: '0',
  };
}

function histogramsBy(rows: BucketRow[], keyOf: (r: BucketRow) => string): Map<string, DurationHistogram> {
  const out = new Map<string, DurationHistogram>();
  for (const r of rows) {
    const key = keyOf(r);
    let h = out.get(key);
    if (h === undefined) {
      h = new Map();
      out.set(key, h);
    }
    addToHistogram(h, Number(r.bucket), Number(r.n));
  }
  return out;
}

function toWorkflow(
  r: StatsRow,
  window: AnalyticsWindow,
  from: Date,
  histogram: DurationHistogram | undefined,
): WorkflowAnalytics {
  const completed = Number(r.completed);
  const failed = Number(r.failed);
  const compensated = Number(r.compensated);
  const terminated = Number(r.terminated);
  const finished = completed + failed + compensated + terminated;
  return {
    workflowId: r.workflow_id,
    window,
    from: from.toISOString(),
    started: Number(r.started),
    completed,
    failed,
    compensated,
    terminated,
    finished,
    successRate: ratio(completed, finished),
    durationMs: percentilesOf(histogram ?? new Map<number, number>()),
  };
}
