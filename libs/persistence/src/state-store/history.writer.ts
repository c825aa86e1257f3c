import type { DataSource } from 'typeorm';

import { BatonError, ErrorCode } from '@baton/contracts';
import type { HistoryBatch } from '@baton/contracts';

import { DatabaseErrorKind, classifyDatabaseError, toBatonDatabaseError } from '../database-errors';
import { toHistoryBatchRows } from './history-batch.rows';

/** How one group transaction ended. */
export const HistoryGroupOutcome = {
  /** Every batch of the group committed in one transaction. */
  COMMITTED: 'committed',
  /** The group transaction failed; its batches were retried one by one (some may have failed). */
  ISOLATED: 'isolated',
  /** The group failed as a whole (database unavailable, or a group of one); every batch was rejected. */
  FAILED: 'failed',
} as const;
export type HistoryGroupOutcome = (typeof HistoryGroupOutcome)[keyof typeof HistoryGroupOutcome];

/** Reported after each group, for metrics. */
export interface HistoryGroupReport {
  /** Batches in the group (including any rejected before reaching the database as invalid). */
  size: number;
  /** Time from the start of the group's transaction to the end of its last write, in seconds. */
  durationSeconds: number;
  outcome: HistoryGroupOutcome;
}

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
  resolve: () => void;
  reject: (err: BatonError) => void;
}

const UPSERT_EXECUTIONS = `
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
  WHERE e.revision < EXCLUDED.revision`;

const INSERT_EVENTS = `
  INSERT INTO history_events (execution_id, seq, type, at, step_id, attempt, item_index, status, data)
  SELECT r.execution_id, r.seq, r.type, r.at, r.step_id, r.attempt, r.item_index, r.status, r.data
    FROM jsonb_to_recordset($1::jsonb) AS r(
      execution_id text, seq integer, type text, at timestamptz, step_id text, attempt integer,
      item_index integer, status text, data jsonb)
   ORDER BY r.execution_id, r.seq
  ON CONFLICT (execution_id, seq) DO NOTHING`;

function describe(batch: unknown): string {
  const b = batch as Partial<HistoryBatch> | null;
  return `writing history of execution ${String(b?.executionId)} revision ${String(b?.revision)}`;
}

/**
 * Applies `HistoryBatch`es to `executions` and `history_events`, idempotently under redelivery and
 * reordering, with group commit.
 *
 * - Events are inserted with `ON CONFLICT DO NOTHING`: a redelivered batch adds nothing twice.
 * - The execution row is replaced only by a batch with a greater `revision`: a late, older batch never
 *   rolls the summary back (its events are still recorded).
 * - Batches arriving within `maxDelayMs` of each other (up to `maxGroupSize`) are written in ONE
 *   transaction with multi-row statements. Each {@link write} resolves only after that commit, and
 *   rejects when it fails, so a caller that acks on resolve acks only durable effects.
 * - A failing group does not poison the others: unless the database is unreachable, its batches are
 *   retried one per transaction; only a batch the database rejects as data (SQLSTATE class 22/23) is
 *   rejected with a non-retryable `VALIDATION_FAILED`. Unreachable database: `UNAVAILABLE`, retryable.
 */
export class HistoryWriter {
  private readonly maxGroupSize: number;
  private readonly maxGroupBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxConcurrentGroups: number;
  private readonly onGroup?: (report: HistoryGroupReport) => void;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The queued batches have waited long enough: write them as soon as a slot is free. */
  private due = false;
  private inFlight = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly ds: DataSource,
    opts: HistoryWriterOptions = {},
  ) {
    this.maxGroupSize = Math.max(1, opts.maxGroupSize ?? 100);
    this.maxGroupBytes = Math.max(1, opts.maxGroupBytes ?? 8 * 1024 * 1024);
    this.maxDelayMs = Math.max(0, opts.maxDelayMs ?? 5);
    this.maxConcurrentGroups = Math.max(1, opts.maxConcurrentGroups ?? 2);
    this.onGroup = opts.onGroup;
  }

  /**
   * Writes one batch (received from the wire, so checked here first). Resolves once it is committed;
   * rejects with a `BatonError`: `retryable: false` when the batch can never be written (invalid shape,
   * or rejected by the database as data), `retryable: true` otherwise (database unavailable, writer
   * closed).
   */
  write(batch: HistoryBatch | Record<string, unknown>): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new BatonError(ErrorCode.UNAVAILABLE, 'history writer is closed', { retryable: true }),
      );
    }
    let item: Omit<Pending, 'resolve' | 'reject'>;
    try {
      const rows = toHistoryBatchRows(batch);
      const executionJson = JSON.stringify(rows.execution);
      const events = rows.events.map((e): [string, string] => [
        `${e.execution_id}\u0000${e.seq}`,
        JSON.stringify(e),
      ]);
      item = {
        batch,
        executionId: rows.execution.id,
        revision: rows.execution.revision,
        executionJson,
        events,
        bytes: events.reduce((n, [, json]) => n + json.length + 1, executionJson.length + 1),
      };
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...item, resolve, reject });
      this.queuedBytes += item.bytes;
      if (this.queue.length >= this.maxGroupSize || this.queuedBytes >= this.maxGroupBytes) {
        this.due = true;
      } else if (this.timer === undefined && !this.due) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.due = true;
          this.pump();
        }, this.maxDelayMs);
      }
      this.pump();
    });
  }

  /** Batches waiting for, or inside, a group transaction. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Stops accepting batches, writes the queued ones and resolves when every group has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = true;
    this.pump();
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.due && this.queue.length > 0 && this.inFlight < this.maxConcurrentGroups) {
      const group = this.takeGroup();
      this.inFlight++;
      void this.runGroup(group).finally(() => {
        this.inFlight--;
        // Whatever queued meanwhile has waited for a whole transaction: it is due now.
        if (this.queue.length > 0) this.due = true;
        this.pump();
      });
    }
    if (this.queue.length === 0) {
      if (!this.closed) this.due = false;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
    if (this.due && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The next group: up to `maxGroupSize` batches and `maxGroupBytes` (at least one batch). */
  private takeGroup(): Pending[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxGroupSize) {
      const next = this.queue[count].bytes;
      if (count > 0 && bytes + next > this.maxGroupBytes) break;
      bytes += next;
      count++;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, count);
  }

  private async runGroup(group: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    let outcome: HistoryGroupOutcome = HistoryGroupOutcome.COMMITTED;
    try {
      await this.writeRows(group);
      for (const p of group) p.resolve();
    } catch (err) {
      if (group.length === 1 || classifyDatabaseError(err) === DatabaseErrorKind.UNAVAILABLE) {
        outcome = HistoryGroupOutcome.FAILED;
        for (const p of group) p.reject(toBatonDatabaseError(err, describe(p.batch)));
      } else {
        outcome = HistoryGroupOutcome.ISOLATED;
        await this.isolate(group);
      }
    }
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    try {
      this.onGroup?.({ size: group.length, durationSeconds, outcome });
    } catch {
      // Reporting must never affect writes.
    }
  }

  /** Writes each batch of a failed group in its own transaction, to find the bad one(s). */
  private async isolate(group: Pending[]): Promise<void> {
    for (let i = 0; i < group.length; i++) {
      const p = group[i];
      try {
        await this.writeRows([p]);
        p.resolve();
      } catch (err) {
        p.reject(toBatonDatabaseError(err, describe(p.batch)));
        if (classifyDatabaseError(err) === DatabaseErrorKind.UNAVAILABLE) {
          // The database went away: the rest would fail the same way; let them be redelivered.
          for (const rest of group.slice(i + 1)) rest.reject(toBatonDatabaseError(err, describe(rest.batch)));
          return;
        }
      }
    }
  }

  /** One transaction: upsert the newest summary per execution, then insert the events. */
  private async writeRows(batches: Pending[]): Promise<void> {
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
    await this.ds.transaction(async (em) => {
      await em.query(UPSERT_EXECUTIONS, [executionsJson]);
      if (events.size > 0) await em.query(INSERT_EVENTS, [eventsJson]);
    });
  }
}
