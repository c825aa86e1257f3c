import type { DataSource } from 'typeorm';

import { toBatonDatabaseError } from '../database-errors';

/** A timer row. */
export interface TimerRecord {
  id: string;
  dueAt: Date;
  subject: string;
  payload: unknown;
  headers: Record<string, string>;
  createdAt: Date;
  firedAt: Date | null;
  cancelledAt: Date | null;
}

/** A timer to create. */
export interface NewTimer {
  id: string;
  dueAt: Date;
  subject: string;
  payload: unknown;
  headers: Record<string, string>;
  createdAt: Date;
}

/** Outcome of {@link TimerRepository.cancel}. */
export const TimerCancelOutcome = {
  CANCELLED: 'CANCELLED',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_FIRED: 'ALREADY_FIRED',
} as const;
export type TimerCancelOutcome = (typeof TimerCancelOutcome)[keyof typeof TimerCancelOutcome];

interface TimerRow {
  id: string;
  due_at: Date;
  subject: string;
  payload: unknown;
  headers: Record<string, string> | null;
  created_at: Date;
  fired_at: Date | null;
  cancelled_at: Date | null;
}

const COLUMNS = 'id, due_at, subject, payload, headers, created_at, fired_at, cancelled_at';

function toRecord(row: TimerRow): TimerRecord {
  return {
    id: row.id,
    dueAt: row.due_at,
    subject: row.subject,
    payload: row.payload,
    headers: row.headers ?? {},
    createdAt: row.created_at,
    firedAt: row.fired_at,
    cancelledAt: row.cancelled_at,
  };
}

/**
 * The scheduler's timers in PostgreSQL. {@link claimDue} claims due timers with
 * `FOR UPDATE SKIP LOCKED`, so several scheduler instances share the work without firing one timer twice
 * (docs/adr/0011-durable-timers.md).
 */
export class TimerRepository {
  constructor(private readonly ds: DataSource) {}

  /** Inserts the timer unless one with its id exists; returns the stored timer either way. */
  async create(timer: NewTimer): Promise<{ timer: TimerRecord; created: boolean }> {
    return guard('create timer', () => this.insert(timer));
  }

  private async insert(timer: NewTimer): Promise<{ timer: TimerRecord; created: boolean }> {
    const inserted = await this.ds.query<TimerRow[]>(
      `INSERT INTO timers (id, due_at, subject, payload, headers, created_at)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        timer.id,
        timer.dueAt,
        timer.subject,
        JSON.stringify(timer.payload ?? null),
        JSON.stringify(timer.headers),
        timer.createdAt,
      ],
    );
    if (inserted.length > 0) return { timer: toRecord(inserted[0]), created: true };
    const existing = await this.get(timer.id);
    if (existing === null) return this.insert(timer);
    return { timer: existing, created: false };
  }

  /** The timer with `id`, or null. */
  async get(id: string): Promise<TimerRecord | null> {
    return guard('read timer', async () => {
      const rows = await this.ds.query<TimerRow[]>(`SELECT ${COLUMNS} FROM timers WHERE id = $1`, [id]);
      return rows.length === 0 ? null : toRecord(rows[0]);
    });
  }

  /** Cancels a pending timer (cancelling a cancelled one again is a no-op); a fired one stays fired. */
  async cancel(id: string, at: Date): Promise<{ outcome: TimerCancelOutcome; timer: TimerRecord | null }> {
    return guard('cancel timer', () => this.markCancelled(id, at));
  }

  private async markCancelled(
    id: string,
    at: Date,
  ): Promise<{ outcome: TimerCancelOutcome; timer: TimerRecord | null }> {
    const [rows] = await this.ds.query<[TimerRow[], number]>(
      `UPDATE timers SET cancelled_at = $2 WHERE id = $1 AND fired_at IS NULL AND cancelled_at IS NULL
       RETURNING ${COLUMNS}`,
      [id, at],
    );
    if (rows.length > 0) return { outcome: TimerCancelOutcome.CANCELLED, timer: toRecord(rows[0]) };
    const existing = await this.get(id);
    if (existing === null) return { outcome: TimerCancelOutcome.NOT_FOUND, timer: null };
    if (existing.firedAt !== null) return { outcome: TimerCancelOutcome.ALREADY_FIRED, timer: existing };
    return { outcome: TimerCancelOutcome.CANCELLED, timer: existing };
  }

  /**
   * In one transaction: claims up to `limit` timers due at `now` (pending, in due order, skipping rows
   * another instance holds), hands them to `fire` (which publishes them), then marks them fired at `now`
   * and commits. When `fire` throws, nothing is marked and the error propagates. Returns the timers fired.
   */
  async claimDue(
    now: Date,
    limit: number,
    fire: (timers: TimerRecord[]) => Promise<void>,
  ): Promise<TimerRecord[]> {
    return this.ds.transaction(async (em) => {
      const rows = await em.query<TimerRow[]>(
        `SELECT ${COLUMNS} FROM timers
          WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1
          ORDER BY due_at, id
          LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      if (rows.length === 0) return [];
      const timers = rows.map(toRecord);
      await fire(timers);
      await em.query(`UPDATE timers SET fired_at = $2 WHERE id = ANY($1::text[])`, [
        timers.map((t) => t.id),
        now,
      ]);
      return timers.map((t) => ({ ...t, firedAt: now }));
    });
  }

  /** Due time of the earliest pending timer, or null when none is pending. */
  async nextDueAt(): Promise<Date | null> {
    const rows = await this.ds.query<{ next: Date | null }[]>(
      `SELECT min(due_at) AS next FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL`,
    );
    return rows[0]?.next ?? null;
  }
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toBatonDatabaseError(err, what);
  }
}
