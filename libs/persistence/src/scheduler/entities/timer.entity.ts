import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A durable timer: a message to publish on `subject` at `due_at`. Table `timers`. */
@Entity({ name: 'timers' })
@Index('timers_pending_due_idx', { synchronize: false })
export class TimerEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'due_at', type: 'timestamptz' })
  dueAt!: Date;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'jsonb', nullable: true })
  payload!: unknown;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  headers!: Record<string, string>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'fired_at', type: 'timestamptz', nullable: true })
  firedAt!: Date | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt!: Date | null;
}
