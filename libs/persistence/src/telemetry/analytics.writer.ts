import type { DataSource } from 'typeorm';

import { GroupCommitter, GroupOutcome } from '../group-commit';
import { type BatchDeltas, toBatchDeltas } from './analytics-batch.deltas';

/** What became of one history batch. */
export const AnalyticsOutcome = {
  /** Counted now (its dedupe record was inserted in the same transaction). */
  COUNTED: 'counted',
  /** Already counted before (redelivered or re-published): nothing changed. */
  DUPLICATE: 'duplicate',
  /** Holds nothing the analytics count (no start, no finished step or execution). */
  IGNORED: 'ignored',
} as const;
export type AnalyticsOutcome = (typeof AnalyticsOutcome)[keyof typeof AnalyticsOutcome];

/** Options of {@link AnalyticsWriter}. */
export interface AnalyticsWriterOptions {
  /** Most batches applied in one transaction (default 200). */
  maxGroupSize?: number;
  /** How long the first batch of a group waits for others, in ms (default 10). */
  maxDelayMs?: number;
  /** Group transactions running at once (default 2). */
  maxConcurrentGroups?: number;
  /** Called after each group transaction with its size and duration in seconds (exceptions ignored). */
  onGroup?: (report: { size: number; durationSeconds: number; committed: boolean }) => void;
}

/**
 * One group in ONE statement (so in one round trip, atomically, without BEGIN/COMMIT): record the
 * batches (`$1`), then add the increments (`$2`, `$3`) of the batches whose record was new only. Rows of
 * `$2`/`$3` carry the key of the batch they come from; they are summed per counter row in SQL, in key
 * order, so concurrent groups lock rows alike. Each key appears once in `$1` (the caller keeps the first
 * copy of a batch), and a concurrent copy in another transaction waits on the primary key, then inserts
 * nothing and counts nothing.
 */
const WRITE_GROUP = `
  WITH recorded AS (
    INSERT INTO telemetry_processed_batches (execution_id, revision)
    SELECT r.execution_id, r.revision
      FROM jsonb_to_recordset($1::jsonb) AS r(execution_id text, revision integer)
     ORDER BY r.execution_id, r.revision
    ON CONFLICT (execution_id, revision) DO NOTHING
    RETURNING execution_id, revision
  ), stats AS (
    INSERT INTO telemetry_minute_stats AS s
      (workflow_id, step_id, minute, started, completed, failed, compensated, terminated, attempts)
    SELECT r.workflow_id, r.step_id, r.minute, sum(r.started)::integer, sum(r.completed)::integer,
           sum(r.failed)::integer, sum(r.compensated)::integer, sum(r.terminated)::integer,
           sum(r.attempts)::bigint
      FROM jsonb_to_recordset($2::jsonb) AS r(
        execution_id text, revision integer, workflow_id text, step_id text, minute timestamptz,
        started integer, completed integer, failed integer, compensated integer, terminated integer,
        attempts bigint)
      JOIN recorded USING (execution_id, revision)
     GROUP BY r.workflow_id, r.step_id, r.minute
     ORDER BY r.workflow_id, r.step_id, r.minute
    ON CONFLICT (workflow_id, step_id, minute) DO UPDATE SET
      started     = s.started + EXCLUDED.started,
      completed   = s.completed + EXCLUDED.completed,
      failed      = s.failed + EXCLUDED.failed,
      compensated = s.compensated + EXCLUDED.compensated,
      terminated  = s.terminated + EXCLUDED.terminated,
      attempts    = s.attempts + EXCLUDED.attempts
  ), durations AS (
    INSERT INTO telemetry_minute_durations AS d (workflow_id, step_id, minute, bucket, count)
    SELECT r.workflow_id, r.step_id, r.minute, r.bucket, count(*)::integer
      FROM jsonb_to_recordset($3::jsonb) AS r(
        execution_id text, revision integer, workflow_id text, step_id text, minute timestamptz,
        bucket smallint)
      JOIN recorded USING (execution_id, revision)
     GROUP BY r.workflow_id, r.step_id, r.minute, r.bucket
     ORDER BY r.workflow_id, r.step_id, r.minute, r.bucket
    ON CONFLICT (workflow_id, step_id, minute, bucket) DO UPDATE SET count = d.count + EXCLUDED.count
  )
  SELECT execution_id, revision FROM recorded`;

/** The columns a counter row's increment carries: its batch's key and the row's own key. */
function rowOf(
  batch: { execution_id: string; revision: number },
  delta: { workflowId: string; stepId: string; minute: number },
): Record<string, unknown> {
  return {
    ...batch,
    workflow_id: delta.workflowId,
    step_id: delta.stepId,
    minute: new Date(delta.minute).toISOString(),
  };
}

const keyOf = (executionId: string, revision: number): string => `${executionId}\u0000${revision}`;

function describe(d: BatchDeltas): string {
  return `counting history of execution ${d.executionId} revision ${d.revision}`;
}

/**
 * Applies `HistoryBatch`es to the telemetry analytics exactly once, with group commit.
 *
 * - Each counted batch's dedupe record `(execution_id, revision)` is inserted in the SAME transaction as
 *   its counter increments, with `ON CONFLICT DO NOTHING RETURNING`: only the batches whose record was
 *   new add their increments. A redelivered or re-published batch (even concurrently, in another group
 *   or instance: the primary key serializes them) changes nothing.
 * - Batches arriving within `maxDelayMs` (up to `maxGroupSize`) share one statement (one round trip, its
 *   own transaction); each {@link write} resolves after the commit, so the caller acks only durable
 *   effects.
 * - A failing group is retried one batch per transaction unless the database is unavailable; a batch the
 *   database rejects as data is rejected non-retryable (`VALIDATION_FAILED`), an unavailable database
 *   `UNAVAILABLE` (retryable).
 */
export class AnalyticsWriter extends GroupCommitter<BatchDeltas, AnalyticsOutcome> {
  constructor(
    private readonly ds: DataSource,
    opts: AnalyticsWriterOptions = {},
  ) {
    const onGroup = opts.onGroup;
    super({
      name: 'analytics writer',
      maxGroupSize: opts.maxGroupSize ?? 200,
      maxDelayMs: opts.maxDelayMs ?? 10,
      maxConcurrentGroups: opts.maxConcurrentGroups ?? 2,
      // A batch holding nothing to count needs no transaction.
      settle: (d) =>
        d.stats.length === 0 && d.durations.length === 0 ? AnalyticsOutcome.IGNORED : undefined,
      describe,
      onGroup:
        onGroup &&
        (({ size, durationSeconds, outcome }) =>
          onGroup({ size, durationSeconds, committed: outcome === GroupOutcome.COMMITTED })),
    });
  }

  /**
   * Counts one history batch (as received from the wire; checked here). Resolves with its outcome once
   * committed; rejects with a BatonError: `retryable: false` when it can never be counted (invalid, or
   * rejected by the database as data), `retryable: true` otherwise.
   */
  write(batch: unknown): Promise<AnalyticsOutcome> {
    return this.submit(() => toBatchDeltas(batch));
  }

  /** One statement: record the new batches, add the increments of those only. */
  protected async writeGroup(batches: BatchDeltas[]): Promise<AnalyticsOutcome[]> {
    // The first copy of a batch in the group is the one that may count; later copies are duplicates.
    const firsts = new Map<string, number>();
    batches.forEach((b, i) => {
      const key = keyOf(b.executionId, b.revision);
      if (!firsts.has(key)) firsts.set(key, i);
    });
    const keys: { execution_id: string; revision: number }[] = [];
    const stats: Record<string, unknown>[] = [];
    const durations: Record<string, unknown>[] = [];
    for (const i of firsts.values()) {
      const b = batches[i];
      const key = { execution_id: b.executionId, revision: b.revision };
      keys.push(key);
      for (const s of b.stats) {
        stats.push({
          ...rowOf(key, s),
          started: s.started,
          completed: s.completed,
          failed: s.failed,
          compensated: s.compensated,
          terminated: s.terminated,
          attempts: s.attempts,
        });
      }
      for (const d of b.durations) {
        durations.push({ ...rowOf(key, d), bucket: d.bucket });
      }
    }
    const recorded = await this.ds.query<{ execution_id: string; revision: number }[]>(WRITE_GROUP, [
      JSON.stringify(keys),
      JSON.stringify(stats),
      JSON.stringify(durations),
    ]);
    const fresh = new Set(recorded.map((r) => keyOf(r.execution_id, r.revision)));
    return batches.map((b, i) => {
      const key = keyOf(b.executionId, b.revision);
      return fresh.has(key) && firsts.get(key) === i ? AnalyticsOutcome.COUNTED : AnalyticsOutcome.DUPLICATE;
    });
  }
}
