import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dead letters get a status (`DEAD`, `REDRIVEN`, `DISCARDED`) with who acted, when and why, and are keyed
 * by `(stream, consumer, stream_sequence)`: two consumers of one stream that both give up on a message each
 * keep their own dead letter. Rows resolved before this migration become `DISCARDED`.
 */
export class DeadLetterStatus1796000000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE dead_letters
        ADD COLUMN status         text    NOT NULL DEFAULT 'DEAD',
        ADD COLUMN truncated      boolean NOT NULL DEFAULT false,
        ADD COLUMN acted_by       text,
        ADD COLUMN reason         text,
        ADD COLUMN redrive_msg_id text,
        ADD COLUMN redrive_seq    bigint`);
    await q.query(
      `UPDATE dead_letters SET status = 'DISCARDED', reason = 'resolved' WHERE resolved_at IS NOT NULL`,
    );
    await q.query(`ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_pkey`);
    await q.query(
      `ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_pkey PRIMARY KEY (stream, consumer, stream_sequence)`,
    );
    await q.query(`DROP INDEX dead_letters_dead_at_idx`);
    await q.query(`DROP INDEX dead_letters_unresolved_idx`);
    await q.query(
      `CREATE INDEX dead_letters_dead_at_idx ON dead_letters (dead_at DESC, stream DESC, consumer DESC, stream_sequence DESC)`,
    );
    await q.query(
      `CREATE INDEX dead_letters_status_idx ON dead_letters (status, dead_at DESC, stream DESC, consumer DESC, stream_sequence DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX dead_letters_status_idx`);
    await q.query(`DROP INDEX dead_letters_dead_at_idx`);
    await q.query(`ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_pkey`);
    await q.query(
      `DELETE FROM dead_letters d USING dead_letters e
        WHERE d.stream = e.stream AND d.stream_sequence = e.stream_sequence AND d.consumer > e.consumer`,
    );
    await q.query(
      `ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_pkey PRIMARY KEY (stream, stream_sequence)`,
    );
    await q.query(`
      ALTER TABLE dead_letters
        DROP COLUMN status, DROP COLUMN truncated, DROP COLUMN acted_by, DROP COLUMN reason,
        DROP COLUMN redrive_msg_id, DROP COLUMN redrive_seq`);
    await q.query(
      `CREATE INDEX dead_letters_dead_at_idx ON dead_letters (dead_at DESC, stream DESC, stream_sequence DESC)`,
    );
    await q.query(
      `CREATE INDEX dead_letters_unresolved_idx ON dead_letters (dead_at DESC, stream DESC, stream_sequence DESC)
         WHERE resolved_at IS NULL`,
    );
  }
}
