import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A history batch already counted by the analytics (table `telemetry_processed_batches`). */
@Entity({ name: 'telemetry_processed_batches' })
@Index('telemetry_processed_batches_at_idx', { synchronize: false })
export class ProcessedBatchEntity {
  @PrimaryColumn({ name: 'execution_id', type: 'text' })
  executionId!: string;

  @PrimaryColumn({ type: 'integer' })
  revision!: number;

  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' })
  processedAt!: Date;
}
