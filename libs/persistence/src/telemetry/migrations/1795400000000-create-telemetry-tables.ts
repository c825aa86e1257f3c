import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The telemetry service's tables: `telemetry_processed_batches` (the history batches already counted,
 * for exactly-once counting), `telemetry_minute_stats` (counters per workflow, step and minute) and
 * `telemetry_minute_durations` (log-scale duration histogram bucket counts per workflow, step and minute).
 */
export class CreateTelemetryTables1795400000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE telemetry_processed_batches (
        execution_id text        NOT NULL,
        revision     integer     NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT telemetry_processed_batches_pkey PRIMARY KEY (execution_id, revision)
      )`);
    await q.query(
      `CREATE INDEX telemetry_processed_batches_at_idx ON telemetry_processed_batches (processed_at)`,
    );
    await q.query(`
      CREATE TABLE telemetry_minute_stats (
        workflow_id text        NOT NULL,
        step_id     text        NOT NULL,
        minute      timestamptz NOT NULL,
        started     integer     NOT NULL DEFAULT 0,
        completed   integer     NOT NULL DEFAULT 0,
        failed      integer     NOT NULL DEFAULT 0,
        compensated integer     NOT NULL DEFAULT 0,
        terminated  integer     NOT NULL DEFAULT 0,
        attempts    bigint      NOT NULL DEFAULT 0,
        CONSTRAINT telemetry_minute_stats_pkey PRIMARY KEY (workflow_id, step_id, minute)
      )`);
    await q.query(`CREATE INDEX telemetry_minute_stats_minute_idx ON telemetry_minute_stats (minute)`);
    await q.query(`
      CREATE TABLE telemetry_minute_durations (
        workflow_id text        NOT NULL,
        step_id     text        NOT NULL,
        minute      timestamptz NOT NULL,
        bucket      smallint    NOT NULL,
        count       integer     NOT NULL,
        CONSTRAINT telemetry_minute_durations_pkey PRIMARY KEY (workflow_id, step_id, minute, bucket)
      )`);
    await q.query(
      `CREATE INDEX telemetry_minute_durations_minute_idx ON telemetry_minute_durations (minute)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE telemetry_minute_durations`);
    await q.query(`DROP TABLE telemetry_minute_stats`);
    await q.query(`DROP TABLE telemetry_processed_batches`);
  }
}
