import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scheduler's `timers` table. The partial index on `due_at` covers exactly the rows the firing loop
 * claims (neither fired nor cancelled), so `ORDER BY due_at LIMIT n` and `min(due_at)` stay index scans
 * however many fired timers the table keeps.
 */
export class CreateSchedulerTables1795400000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE timers (
        id           text        NOT NULL,
        due_at       timestamptz NOT NULL,
        subject      text        NOT NULL,
        payload      jsonb,
        headers      jsonb       NOT NULL DEFAULT '{}',
        created_at   timestamptz NOT NULL DEFAULT now(),
        fired_at     timestamptz,
        cancelled_at timestamptz,
        CONSTRAINT timers_pkey PRIMARY KEY (id)
      )`);
    await q.query(
      `CREATE INDEX timers_pending_due_idx ON timers (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE timers`);
  }
}
