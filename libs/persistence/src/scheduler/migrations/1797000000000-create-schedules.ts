import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scheduler's `schedules` table (cron schedules, docs/adr/0017-cron-schedules.md). The partial index on
 * `next_fire_at` covers exactly the rows the firing loop claims (not paused, with a next fire), the partial
 * indexes on `running_execution_id` and `last_execution_id` the lookups made when an execution of a
 * schedule finishes.
 */
export class CreateSchedules1797000000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE schedules (
        id                   text        NOT NULL,
        workflow_id          text        NOT NULL,
        workflow_version     integer,
        expression           text        NOT NULL,
        timezone             text        NOT NULL DEFAULT 'UTC',
        input                jsonb,
        overlap              text        NOT NULL DEFAULT 'allow',
        paused               boolean     NOT NULL DEFAULT false,
        source               text        NOT NULL,
        next_fire_at         timestamptz,
        last_fire_at         timestamptz,
        last_execution_id    text,
        running_execution_id text,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT schedules_pkey PRIMARY KEY (id)
      )`);
    await q.query(
      `CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE NOT paused AND next_fire_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX schedules_running_execution_idx ON schedules (running_execution_id) WHERE running_execution_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX schedules_last_execution_idx ON schedules (last_execution_id) WHERE last_execution_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX schedules_workflow_idx ON schedules (workflow_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE schedules`);
  }
}
