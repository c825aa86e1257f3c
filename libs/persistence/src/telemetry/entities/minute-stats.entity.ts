import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Counters of one workflow (`stepId` empty) or one of its steps in one minute (table
 * `telemetry_minute_stats`).
 */
@Entity({ name: 'telemetry_minute_stats' })
@Index('telemetry_minute_stats_minute_idx', { synchronize: false })
export class MinuteStatsEntity {
  @PrimaryColumn({ name: 'workflow_id', type: 'text' })
  workflowId!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text' })
  stepId!: string;

  @PrimaryColumn({ type: 'timestamptz' })
  minute!: Date;

  @Column({ type: 'integer', default: 0 })
  started!: number;

  @Column({ type: 'integer', default: 0 })
  completed!: number;

  @Column({ type: 'integer', default: 0 })
  failed!: number;

  @Column({ type: 'integer', default: 0 })
  compensated!: number;

  @Column({ type: 'integer', default: 0 })
  terminated!: number;

  /** Sum of the attempt numbers of the steps finished in the minute (bigint, read as a string). */
  @Column({ type: 'bigint', default: 0 })
  attempts!: string;
}
