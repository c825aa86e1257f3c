import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { ExecutionEntity } from './execution.entity';

/** One entry of an execution's history, keyed by `(execution_id, seq)`. Table `history_events`. */
@Entity({ name: 'history_events' })
export class HistoryEventEntity {
  @PrimaryColumn({ name: 'execution_id', type: 'text' })
  @ForeignKey(() => ExecutionEntity, { name: 'history_events_execution_fk', onDelete: 'CASCADE' })
  executionId!: string;

  @PrimaryColumn({ type: 'integer' })
  seq!: number;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  @Column({ name: 'step_id', type: 'text', nullable: true })
  stepId!: string | null;

  @Column({ type: 'integer', nullable: true })
  attempt!: number | null;

  @Column({ name: 'item_index', type: 'integer', nullable: true })
  itemIndex!: number | null;

  @Column({ type: 'text', nullable: true })
  status!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  data!: Record<string, unknown> | null;
}
