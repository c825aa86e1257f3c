import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A cron schedule: starts an execution of `workflow_id` at every fire time of `expression` in `timezone`.
 * Table `schedules`.
 */
@Entity({ name: 'schedules' })
@Index('schedules_due_idx', { synchronize: false })
@Index('schedules_running_execution_idx', { synchronize: false })
@Index('schedules_last_execution_idx', { synchronize: false })
@Index('schedules_workflow_idx', { synchronize: false })
export class ScheduleEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'workflow_id', type: 'text' })
  workflowId!: string;

  @Column({ name: 'workflow_version', type: 'integer', nullable: true })
  workflowVersion!: number | null;

  @Column({ type: 'text' })
  expression!: string;

  @Column({ type: 'text', default: 'UTC' })
  timezone!: string;

  @Column({ type: 'jsonb', nullable: true })
  input!: unknown;

  @Column({ type: 'text', default: 'allow' })
  overlap!: string;

  @Column({ type: 'boolean', default: false })
  paused!: boolean;

  @Column({ type: 'text' })
  source!: string;

  @Column({ name: 'next_fire_at', type: 'timestamptz', nullable: true })
  nextFireAt!: Date | null;

  @Column({ name: 'last_fire_at', type: 'timestamptz', nullable: true })
  lastFireAt!: Date | null;

  @Column({ name: 'last_execution_id', type: 'text', nullable: true })
  lastExecutionId!: string | null;

  @Column({ name: 'running_execution_id', type: 'text', nullable: true })
  runningExecutionId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
