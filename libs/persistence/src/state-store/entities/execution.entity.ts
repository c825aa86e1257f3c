import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per execution: the summary carried by the newest `HistoryBatch` applied (highest
 * `revision`). Table `executions`.
 */
@Entity({ name: 'executions' })
@Index('executions_workflow_started_idx', { synchronize: false })
@Index('executions_status_started_idx', { synchronize: false })
@Index('executions_started_idx', { synchronize: false })
export class ExecutionEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'workflow_id', type: 'text' })
  workflowId!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'jsonb', nullable: true })
  input!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  /** Step summaries by step id (`Record<string, StepSummary>`). */
  @Column({ type: 'jsonb', default: () => `'{}'` })
  steps!: Record<string, unknown>;

  /** Revision of the batch this row reflects; only a greater revision replaces it. */
  @Column({ type: 'integer' })
  revision!: number;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
