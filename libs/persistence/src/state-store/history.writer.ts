import type { DataSource } from 'typeorm';

import type { HistoryBatch } from '@baton/contracts';

import { GroupCommitter, GroupOutcome, type GroupReport } from '../group-commit';
import { toHistoryBatchRows } from './history-batch.rows';

/**
 * How one group transaction ended: `committed` (every batch in one transaction), `isolated` (the group
 * failed; its batches were retried one by one, some may have failed) or `failed` (database unavailable,
 * or a group of one; every batch was rejected).
 */
export const HistoryGroupOutcome = GroupOutcome;
export type HistoryGroupOutcome = GroupOutcome;

/** Reported after each group, for metrics: its size in batches, duration in seconds and outcome. */
export type HistoryGroupReport = GroupReport;

/** Options of {@link HistoryWriter}. */
export interface HistoryWriterOptions {
  /** Most batches written in one transaction (default 100). */
  maxGroupSize?: number;
  /**
   * Most row JSON (in characters, about bytes) sent in one transaction (default 8 Mi); a larger batch is
   * written alone.
   * Bounds the memory and statement size of a group of large batches.
   */
  maxGroupBytes?: number;
  /** How long the first batch of a group waits for company before the group is written, in ms (default 5). */
  maxDelayMs?: number;
  /** Group transactions running at the same time (default 2). */
  maxConcurrentGroups?: number;
  /** Called after each group (exceptions thrown by it are ignored). */
  onGroup?: (report: HistoryGroupReport) => void;
}

/** One batch, serialized once at arrival: its execution row and event rows as JSON. */
interface Pending {
  batch: unknown;
  executionId: string;
  revision: number;
  executionJson: string;
  /** `[key, json]` per event, key `<executionId>\u0000<seq>`. */
  events: [string, string][];
  bytes: number;
}

/**
 * One statement, so one round trip and atomic on its own: the data-modifying CTE upserts the execution
 * rows ($1), the main query inserts the events ($2). The foreign key from the events to their execution is
 * checked at the end of the statement, when the CTE's rows are there.
 */
const WRITE_HISTORY = `
  WITH upserted AS (
    INSERT INTO executions AS e
      (id, workflow_id, version, status, input, output, error, steps, revision, started_at, updated_at, finished_at)
    SELECT r.id, r.workflow_id, r.version, r.status, r.input, r.output, r.error, COALESCE(r.steps, '{}'::jsonb),
           r.revision, r.started_at, r.updated_at, r.finished_at
      FROM jsonb_to_recordset($1::jsonb) AS r(
        id text, workflow_id text, version integer, status text, input jsonb, output jsonb, error jsonb,
        steps jsonb, revision integer, started_at timestamptz, updated_at timestamptz, finished_at timestamptz)
     ORDER BY r.id
    ON CONFLICT (id) DO UPDATE SET
      workflow_id = EXCLUDED.workflow_id,
      version     = EXCLUDED.version,
      status      = EXCLUDED.status,
      input       = EXCLUDED.input,
      output      = EXCLUDED.output,
      error       = EXCLUDED.error,
      steps       = EXCLUDED.steps,
      revision    = EXCLUDED.revision,
      started_at  = EXCLUDED.started_at,
      updated_at  = EXCLUDED.updated_at,
      finished_at = EXCLUDED.finished_at
    WHERE e.revision < EXCLUDED.revision
  )
  INSERT INTO history_events (execution_id, seq, type, at, step_id, attempt, item_index, status, data)
  SELECT r.execution_id, r.seq, r.type, r.at, r.step_id, r.attempt, r.item_index, r.status, r.data
    FROM jsonb_to_recordset($2::jsonb) AS r(
      execution_id text, seq integer, type text, at timestamptz, step_id text, attempt integer,
      item_index integer, status text, data jsonb)
   ORDER BY r.execution_id, r.seq
  ON CONFLICT (execution_id, seq) DO NOTHING`;

/** Checks a batch and serializes its rows. */
function toPending(batch: HistoryBatch | Record<string, unknown>): Pending {
  const rows = toHistoryBatchRows(batch);
  const executionJson = JSON.stringify(rows.execution);
  const events = rows.events.map((e): [string, string] => [
    `${e.execution_id}\u0000${e.seq}`,
    JSON.stringify(e),
  ]);
  return {
    batch,
    executionId: rows.execution.id,
    revision: rows.execution.revision,
    executionJson,
    events,
    bytes: events.reduce((n, [, json]) => n + json.length + 1, executionJson.length + 1),
  };
}

function describe(p: Pending): string {
  const b = p.batch as Partial<HistoryBatch> | null;
  return `writing history of execution ${String(b?.executionId)} revision ${String(b?.revision)}`;
}

/**
 * Applies `HistoryBatch`es to `executions` and `history_events`, idempotently under redelivery and
 * reordering, with group commit.
 *
 * - Events are inserted with `ON CONFLICT DO NOTHING`: a redelivered batch adds nothing twice.
 * - The execution row is replaced only by a batch with a greater `revision`: a late, older batch never
 *   rolls the summary back (its events are still recorded).
 * - Batches arriving within `maxDelayMs` of each other (up to `maxGroupSize`) are written by ONE
 *   statement (one round trip, atomic). Each {@link write} resolves only after that commit, and
 *   rejects when it fails, so a caller that acks on resolve acks only durable effects.
 * - A failing group does not poison the others: unless the database is unreachable, its batches are
 *   retried one per transaction; only a batch the database rejects as data (SQLSTATE class 22/23) is
 *   rejected with a non-retryable `VALIDATION_FAILED`. Unreachable database: `UNAVAILABLE`, retryable.
 */
export class HistoryWriter extends GroupCommitter<Pending, void> {
  constructor(
    private readonly ds: DataSource,
    opts: HistoryWriterOptions = {},
  ) {
    super({
      name: 'history writer',
      maxGroupSize: opts.maxGroupSize ?? 100,
      maxGroupBytes: opts.maxGroupBytes ?? 8 * 1024 * 1024,
      maxDelayMs: opts.maxDelayMs ?? 5,
      maxConcurrentGroups: opts.maxConcurrentGroups ?? 2,
      sizeOf: (p) => p.bytes,
      describe,
      onGroup: opts.onGroup,
    });
  }

  /**
   * Writes one batch (received from the wire, so checked here first). Resolves once it is committed;
   * rejects with a `BatonError`: `retryable: false` when the batch can never be written (invalid shape,
   * or rejected by the database as data), `retryable: true` otherwise (database unavailable, writer
   * closed).
   */
  write(batch: HistoryBatch | Record<string, unknown>): Promise<void> {
    return this.submit(() => toPending(batch));
  }

  /** One statement: upsert the newest summary per execution and insert the events, atomically. */
  protected async writeGroup(batches: Pending[]): Promise<void[]> {
    const executions = new Map<string, Pending>();
    const events = new Map<string, string>();
    for (const b of batches) {
      const current = executions.get(b.executionId);
      // One statement may not update a row twice: keep the highest revision of each execution.
      if (current === undefined || b.revision > current.revision) executions.set(b.executionId, b);
      for (const [key, json] of b.events) if (!events.has(key)) events.set(key, json);
    }
    const executionsJson = `[${[...executions.values()].map((b) => b.executionJson).join(',')}]`;
    const eventsJson = `[${[...events.values()].join(',')}]`;
    await this.ds.query(WRITE_HISTORY, [executionsJson, eventsJson]);
    return batches.map(() => undefined);
  }
}
