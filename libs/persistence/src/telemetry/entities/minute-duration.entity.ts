import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Observations of one duration histogram bucket of a workflow (`stepId` empty) or step in one minute
 * (table `telemetry_minute_durations`); buckets per `duration-histogram.ts`.
 */
@Entity({ name: 'telemetry_minute_durations' })
@Index('telemetry_minute_durations_minute_idx', { synchronize: false })
export class MinuteDurationEntity {
  @PrimaryColumn({ name: 'workflow_id', type: 'text' })
  workflowId!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text' })
  stepId!: string;

  @PrimaryColumn({ type: 'timestamptz' })
  minute!: Date;

  @PrimaryColumn({ type: 'smallint' })
  bucket!: number;

  @Column({ type: 'integer' })
  count!: number;
}
