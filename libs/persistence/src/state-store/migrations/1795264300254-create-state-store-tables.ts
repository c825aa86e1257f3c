import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The state-store's tables: `executions` (one summary row per execution), `history_events` (the
 * ordered history, `(execution_id, seq)`), `dead_letters` (keyed by origin stream and sequence).
 * Listing indexes end in `id` / the key so keyset pagination on `(started_at desc, id desc)` is an
 * index scan.
 */
export class CreateStateStoreTables1795264300254 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE executions (
        id          text        NOT NULL,
        workflow_id text        NOT NULL,
        version     integer     NOT NULL,
        status      text        NOT NULL,
        input       jsonb,
        output      jsonb,
        error       jsonb,
        steps       jsonb       NOT NULL DEFAULT '{}',
        revision    integer     NOT NULL,
        started_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL,
        finished_at timestamptz,
        CONSTRAINT executions_pkey PRIMARY KEY (id)
      )`);
    await q.query(
      `CREATE INDEX executions_workflow_started_idx ON executions (workflow_id, started_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX executions_status_started_idx ON executions (status, started_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX executions_started_idx ON executions (started_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE history_events (
        execution_id text        NOT NULL,
        seq          integer     NOT NULL,
        type         text        NOT NULL,
        at           timestamptz NOT NULL,
        step_id      text,
        attempt      integer,
        item_index   integer,
        status       text,
        data         jsonb,
        CONSTRAINT history_events_pkey PRIMARY KEY (execution_id, seq),
        CONSTRAINT history_events_execution_fk FOREIGN KEY (execution_id)
          REFERENCES executions (id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE dead_letters (
        stream          text        NOT NULL,
        stream_sequence bigint      NOT NULL,
        consumer        text        NOT NULL,
        subject         text        NOT NULL,
        deliveries      integer     NOT NULL,
        error_code      text        NOT NULL,
        error           text        NOT NULL,
        dead_at         timestamptz NOT NULL,
        data            bytea       NOT NULL,
        headers         jsonb       NOT NULL DEFAULT '{}',
        resolved_at     timestamptz,
        CONSTRAINT dead_letters_pkey PRIMARY KEY (stream, stream_sequence)
      )`);
    await q.query(
      `CREATE INDEX dead_letters_dead_at_idx ON dead_letters (dead_at DESC, stream DESC, stream_sequence DESC)`,
    );
    await q.query(
      `CREATE INDEX dead_letters_unresolved_idx ON dead_letters (dead_at DESC, stream DESC, stream_sequence DESC)
         WHERE resolved_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dead_letters`);
    await q.query(`DROP TABLE history_events`);
    await q.query(`DROP TABLE executions`);
  }
}
