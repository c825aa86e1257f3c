import type { DataSource, EntityManager } from 'typeorm';

import { toBatonDatabaseError } from '../database-errors';

/** Where a schedule comes from: the API, or a cron trigger of a registered workflow definition. */
export const ScheduleSource = {
  API: 'api',
  DEFINITION: 'definition',
} as const;
export type ScheduleSource = (typeof ScheduleSource)[keyof typeof ScheduleSource];

/** What a fire does while the previous execution of the schedule still runs. */
export const ScheduleOverlap = {
  SKIP: 'skip',
  ALLOW: 'allow',
} as const;
export type ScheduleOverlap = (typeof ScheduleOverlap)[keyof typeof ScheduleOverlap];

/** A schedule row. */
export interface ScheduleRecord {
  id: string;
  workflowId: string;
  /** Absent: every fire starts the latest registered version. */
  workflowVersion: number | null;
  expression: string;
  timezone: string;
  input: unknown;
  overlap: ScheduleOverlap;
  paused: boolean;
  source: ScheduleSource;
  /** Null when the expression never fires again. */
  nextFireAt: Date | null;
  lastFireAt: Date | null;
  lastExecutionId: string | null;
  /** With overlap `skip`: the execution started by the last fire, until it finishes. */
  runningExecutionId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A schedule to create: a row before its first fire. */
export type NewSchedule = Omit<
  ScheduleRecord,
  'lastFireAt' | 'lastExecutionId' | 'runningExecutionId' | 'updatedAt'
>;

/** What one claimed schedule becomes (decided by the caller of {@link ScheduleRepository.claimDue}). */
export interface ScheduleAdvance {
  id: string;
  nextFireAt: Date | null;
  /** The fire time that started an execution; null when this fire was skipped. */
  firedAt: Date | null;
  /** The execution started; null when skipped. */
  executionId: string | null;
  /** Remember `executionId` as running (overlap `skip`) until its completion is seen. */
  track: boolean;
}

/** Outcome of {@link ScheduleRepository.syncDefinition}. */
export interface DefinitionSyncResult {
  upserted: number;
  removed: number;
}

interface ScheduleRow {
  id: string;
  workflow_id: string;
  workflow_version: number | null;
  expression: string;
  timezone: string;
  input: unknown;
  overlap: string;
  paused: boolean;
  source: string;
  next_fire_at: Date | null;
  last_fire_at: Date | null;
  last_execution_id: string | null;
  running_execution_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, workflow_id, workflow_version, expression, timezone, input, overlap, paused, source,
  next_fire_at, last_fire_at, last_execution_id, running_execution_id, created_at, updated_at`;

function toRecord(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    expression: row.expression,
    timezone: row.timezone,
    input: row.input,
    overlap: row.overlap === ScheduleOverlap.SKIP ? ScheduleOverlap.SKIP : ScheduleOverlap.ALLOW,
    paused: row.paused,
    source: row.source === ScheduleSource.DEFINITION ? ScheduleSource.DEFINITION : ScheduleSource.API,
    nextFireAt: row.next_fire_at,
    lastFireAt: row.last_fire_at,
    lastExecutionId: row.last_execution_id,
    runningExecutionId: row.running_execution_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function insertParams(s: NewSchedule): unknown[] {
  return [
    s.id,
    s.workflowId,
    s.workflowVersion,
    s.expression,
    s.timezone,
    JSON.stringify(s.input ?? null),
    s.overlap,
    s.paused,
    s.source,
    s.nextFireAt,
    s.createdAt,
  ];
}

const INSERT = `INSERT INTO schedules (id, workflow_id, workflow_version, expression, timezone, input, overlap,
    paused, source, next_fire_at, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $11)`;

/**
 * The scheduler's cron schedules in PostgreSQL. {@link claimDue} claims due schedules with
 * `FOR UPDATE SKIP LOCKED`, so several scheduler instances share them without starting one fire twice
 * (docs/adr/0017-cron-schedules.md).
 */
export class ScheduleRepository {
  constructor(private readonly ds: DataSource) {}

  /** Inserts the schedule unless one with its id exists; returns the stored schedule either way. */
  async create(schedule: NewSchedule): Promise<{ schedule: ScheduleRecord; created: boolean }> {
    return guard('create schedule', async () => {
      for (;;) {
        const inserted = await this.ds.query<ScheduleRow[]>(
          `${INSERT} ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
          insertParams(schedule),
        );
        if (inserted.length > 0) return { schedule: toRecord(inserted[0]), created: true };
        const existing = await this.get(schedule.id);
        if (existing !== null) return { schedule: existing, created: false };
      }
    });
  }

  /** The schedule with `id`, or null. */
  async get(id: string): Promise<ScheduleRecord | null> {
    return guard('read schedule', async () => {
      const rows = await this.ds.query<ScheduleRow[]>(`SELECT ${COLUMNS} FROM schedules WHERE id = $1`, [id]);
      return rows.length === 0 ? null : toRecord(rows[0]);
    });
  }

  /** Schedules in id order, optionally of one workflow, at most `limit`. */
  async list(query: { workflowId?: string; limit: number }): Promise<ScheduleRecord[]> {
    return guard('list schedules', async () => {
      const rows = await this.ds.query<ScheduleRow[]>(
        `SELECT ${COLUMNS} FROM schedules WHERE ($1::text IS NULL OR workflow_id = $1) ORDER BY id LIMIT $2`,
        [query.workflowId ?? null, query.limit],
      );
      return rows.map(toRecord);
    });
  }

  /** Deletes the schedule; returns it as it was, or null when unknown. */
  async delete(id: string): Promise<ScheduleRecord | null> {
    return guard('delete schedule', async () => {
      const [rows] = await this.ds.query<[ScheduleRow[], number]>(
        `DELETE FROM schedules WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      return rows.length === 0 ? null : toRecord(rows[0]);
    });
  }

  /** Pauses the schedule (pausing a paused one is a no-op); null when unknown. */
  async pause(id: string, at: Date): Promise<ScheduleRecord | null> {
    return guard('pause schedule', async () => {
      const [rows] = await this.ds.query<[ScheduleRow[], number]>(
        `UPDATE schedules SET paused = true, updated_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, at],
      );
      return rows.length === 0 ? null : toRecord(rows[0]);
    });
  }

  /**
   * Resumes a paused schedule with the next fire `nextFireAt(schedule)` gives (fires missed while paused are
   * not caught up); resuming a running one changes nothing. Null when unknown.
   */
  async resume(
    id: string,
    at: Date,
    nextFireAt: (schedule: ScheduleRecord) => Date | null,
  ): Promise<ScheduleRecord | null> {
    return guard('resume schedule', () =>
      this.ds.transaction(async (em) => {
        const current = await lockOne(em, id);
        if (current === null || !current.paused) return current;
        const [rows] = await em.query<[ScheduleRow[], number]>(
          `UPDATE schedules SET paused = false, next_fire_at = $2, updated_at = $3 WHERE id = $1
           RETURNING ${COLUMNS}`,
          [id, nextFireAt(current), at],
        );
        return toRecord(rows[0]);
      }),
    );
  }

  /**
   * In one transaction: claims up to `limit` schedules due at `now` (not paused, in due order, skipping rows
   * another instance holds), hands them to `fire` (which publishes their start commands and says what each
   * becomes), applies the advances and commits. When `fire` throws, nothing changes and the error
   * propagates. Returns the claimed schedules and their advances.
   */
  async claimDue(
    now: Date,
    limit: number,
    fire: (schedules: ScheduleRecord[]) => Promise<ScheduleAdvance[]>,
  ): Promise<{ claimed: ScheduleRecord[]; advances: ScheduleAdvance[] }> {
    return this.ds.transaction(async (em) => {
      const rows = await em.query<ScheduleRow[]>(
        `SELECT ${COLUMNS} FROM schedules
          WHERE NOT paused AND next_fire_at IS NOT NULL AND next_fire_at <= $1
          ORDER BY next_fire_at, id
          LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      if (rows.length === 0) return { claimed: [], advances: [] };
      const claimed = rows.map(toRecord);
      const advances = await fire(claimed);
      if (advances.length > 0) {
        await em.query(
          `UPDATE schedules s SET
              next_fire_at = u.next_fire_at,
              last_fire_at = COALESCE(u.fired_at, s.last_fire_at),
              last_execution_id = COALESCE(u.execution_id, s.last_execution_id),
              running_execution_id = CASE WHEN u.track THEN u.execution_id ELSE s.running_execution_id END,
              updated_at = $6
            FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::boolean[])
              AS u(id, next_fire_at, fired_at, execution_id, track)
           WHERE s.id = u.id`,
          [
            advances.map((a) => a.id),
            advances.map((a) => a.nextFireAt),
            advances.map((a) => a.firedAt),
            advances.map((a) => a.executionId),
            advances.map((a) => a.track),
            now,
          ],
        );
      }
      return { claimed, advances };
    });
  }

  /** Next fire time of the earliest active schedule, or null when none will fire. */
  async nextDueAt(): Promise<Date | null> {
    const rows = await this.ds.query<{ next: Date | null }[]>(
      `SELECT min(next_fire_at) AS next FROM schedules WHERE NOT paused AND next_fire_at IS NOT NULL`,
    );
    return rows[0]?.next ?? null;
  }

  /**
   * An execution finished: schedules that tracked it as running stop doing so (`released`). `known` when no
   * schedule tracked it but one names it as its last execution, `unknown` when none mentions it (yet: the
   * transaction that started it may not have committed).
   */
  async executionFinished(executionId: string): Promise<'released' | 'known' | 'unknown'> {
    return guard('record finished execution', async () => {
      const [, count] = await this.ds.query<[unknown[], number]>(
        `UPDATE schedules SET running_execution_id = NULL WHERE running_execution_id = $1`,
        [executionId],
      );
      if (count > 0) return 'released';
      const rows = await this.ds.query<unknown[]>(
        `SELECT 1 FROM schedules WHERE last_execution_id = $1 LIMIT 1`,
        [executionId],
      );
      return rows.length > 0 ? 'known' : 'unknown';
    });
  }

  /**
   * Makes the definition-sourced schedules of `workflowId` those of its version `version`: each of
   * `schedules` is inserted or updated (its paused flag and, when expression and time zone are unchanged,
   * its next fire are kept), and the other definition schedules of the workflow from versions up to
   * `version` are removed. Nothing changes when schedules of a newer version exist, so an instance that
   * learns of versions late cannot bring back older ones (it converges when it learns of the newer one).
   */
  async syncDefinition(
    workflowId: string,
    version: number,
    schedules: NewSchedule[],
    at: Date,
  ): Promise<DefinitionSyncResult> {
    return guard('sync definition schedules', () =>
      this.ds.transaction(async (em) => {
        const [newest] = await em.query<{ v: number | null }[]>(
          `SELECT max(workflow_version) AS v FROM schedules WHERE source = 'definition' AND workflow_id = $1`,
          [workflowId],
        );
        if ((newest?.v ?? 0) > version) return { upserted: 0, removed: 0 };
        let upserted = 0;
        for (const s of schedules) {
          const current = await lockOne(em, s.id);
          if (current === null) {
            const inserted = await em.query<ScheduleRow[]>(
              `${INSERT} ON CONFLICT (id) DO NOTHING RETURNING id`,
              insertParams(s),
            );
            upserted += inserted.length;
            continue;
          }
          if (current.source !== ScheduleSource.DEFINITION) continue;
          if ((current.workflowVersion ?? 0) > version) continue;
          const sameTimes = current.expression === s.expression && current.timezone === s.timezone;
          await em.query(
            `UPDATE schedules SET workflow_id = $2, workflow_version = $3, expression = $4, timezone = $5,
                input = $6::jsonb, overlap = $7, next_fire_at = $8, updated_at = $9
              WHERE id = $1`,
            [
              s.id,
              s.workflowId,
              s.workflowVersion,
              s.expression,
              s.timezone,
              JSON.stringify(s.input ?? null),
              s.overlap,
              sameTimes ? current.nextFireAt : s.nextFireAt,
              at,
            ],
          );
          upserted++;
        }
        const [, removed] = await em.query<[unknown[], number]>(
          `DELETE FROM schedules
            WHERE source = 'definition' AND workflow_id = $1 AND workflow_version <= $2
              AND NOT (id = ANY($3::text[]))`,
          [workflowId, version, schedules.map((s) => s.id)],
        );
        return { upserted, removed };
      }),
    );
  }

  /** Removes the definition-sourced schedules of `workflowId` from versions up to `upToVersion`. */
  async removeDefinition(workflowId: string, upToVersion: number): Promise<number> {
    return guard('remove definition schedules', async () => {
      const [, removed] = await this.ds.query<[unknown[], number]>(
        `DELETE FROM schedules WHERE source = 'definition' AND workflow_id = $1 AND workflow_version <= $2`,
        [workflowId, upToVersion],
      );
      return removed;
    });
  }
}

async function lockOne(em: EntityManager, id: string): Promise<ScheduleRecord | null> {
  const rows = await em.query<ScheduleRow[]>(`SELECT ${COLUMNS} FROM schedules WHERE id = $1 FOR UPDATE`, [
    id,
  ]);
  return rows.length === 0 ? null : toRecord(rows[0]);
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toBatonDatabaseError(err, what);
  }
}
