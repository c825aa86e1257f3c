import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { ANALYTICS_WINDOW_NAMES } from '@baton/persistence';

/** Query of the analytics routes. */
export class AnalyticsQueryDto {
  @ApiPropertyOptional({ description: 'Sliding window', enum: ANALYTICS_WINDOW_NAMES, default: '1h' })
  window?: string;
}

/** Duration percentiles in milliseconds (log-scale buckets: within about 4.4 % of the exact value). */
export class DurationPercentilesDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Median (null when nothing finished)' })
  p50!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  p95!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  p99!: number | null;
}

/** One workflow's executions in a window. */
export class WorkflowAnalyticsDto {
  @ApiProperty({ example: 'order-fulfillment' })
  workflowId!: string;

  @ApiProperty({ enum: ANALYTICS_WINDOW_NAMES })
  window!: string;

  @ApiProperty({ description: 'Start of the first minute counted (ISO-8601)' })
  from!: string;

  @ApiProperty({ description: 'Executions started in the window' })
  started!: number;

  @ApiProperty({ description: 'Executions completed in the window' })
  completed!: number;

  @ApiProperty({ description: 'Executions failed in the window' })
  failed!: number;

  @ApiProperty({ description: 'Executions compensated in the window' })
  compensated!: number;

  @ApiProperty({ description: 'Executions terminated in the window' })
  terminated!: number;

  @ApiProperty({ description: 'Executions finished in the window (any terminal status)' })
  finished!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'completed / finished, 0..1' })
  successRate!: number | null;

  @ApiProperty({ type: DurationPercentilesDto, description: 'Durations of the executions finished' })
  durationMs!: DurationPercentilesDto;
}

/** `GET /v1/analytics/workflows`. */
export class WorkflowAnalyticsListDto {
  @ApiProperty({ type: [WorkflowAnalyticsDto] })
  items!: WorkflowAnalyticsDto[];
}

/** One step of a workflow in a window. */
export class StepAnalyticsDto {
  @ApiProperty({ example: 'reserve' })
  stepId!: string;

  @ApiProperty({ description: 'Finished runs of the step (completed + failures)' })
  count!: number;

  @ApiProperty()
  completed!: number;

  @ApiProperty({ description: 'Runs that failed after their retries' })
  failures!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'completed / count, 0..1' })
  successRate!: number | null;

  @ApiProperty({ type: DurationPercentilesDto })
  durationMs!: DurationPercentilesDto;

  @ApiProperty({ type: Number, nullable: true, description: 'Average attempts per finished run' })
  averageAttempts!: number | null;
}

/** `GET /v1/analytics/workflows/:id/steps`. */
export class StepAnalyticsListDto {
  @ApiProperty()
  workflowId!: string;

  @ApiProperty({ enum: ANALYTICS_WINDOW_NAMES })
  window!: string;

  @ApiProperty({ type: [StepAnalyticsDto] })
  items!: StepAnalyticsDto[];
}
