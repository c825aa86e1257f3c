import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A message a consumer gave up on, keyed by `(stream, consumer, stream_sequence)`. Table `dead_letters`.
 */
@Entity({ name: 'dead_letters' })
@Index('dead_letters_dead_at_idx', { synchronize: false })
@Index('dead_letters_status_idx', { synchronize: false })
export class DeadLetterEntity {
  @PrimaryColumn({ type: 'text' })
  stream!: string;

  /** Sequence of the original message in `stream` (int8; read back as a string by `pg`). */
  @PrimaryColumn({ name: 'stream_sequence', type: 'bigint' })
  streamSequence!: string;

  @PrimaryColumn({ type: 'text' })
  consumer!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'integer' })
  deliveries!: number;

  @Column({ name: 'error_code', type: 'text' })
  errorCode!: string;

  @Column({ type: 'text' })
  error!: string;

  @Column({ name: 'dead_at', type: 'timestamptz' })
  deadAt!: Date;

  /** The original payload bytes. */
  @Column({ type: 'bytea' })
  data!: Buffer;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  headers!: Record<string, string[]>;

  /** The payload copy was cut to fit BATON_DLQ (cannot be re-driven). */
  @Column({ type: 'boolean', default: false })
  truncated!: boolean;

  /** `DEAD`, `REDRIVEN` or `DISCARDED`. */
  @Column({ type: 'text', default: 'DEAD' })
  status!: string;

  /** When it left `DEAD`. */
  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'acted_by', type: 'text', nullable: true })
  actedBy!: string | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'redrive_msg_id', type: 'text', nullable: true })
  redriveMsgId!: string | null;

  @Column({ name: 'redrive_seq', type: 'bigint', nullable: true })
  redriveSeq!: string | null;
}
