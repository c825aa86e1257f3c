import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Body of `POST /v1/schedules` (validated by the service; this class documents it). */
export class CreateScheduleDto {
  @ApiProperty({ description: 'Workflow to start at every fire', example: 'nightly-report' })
  workflowId!: string;

  @ApiProperty({
    description: 'Cron expression: 5 fields, 6 with seconds first, or @hourly/@daily/...',
    example: '0 */6 * * *',
  })
  expression!: string;

  @ApiPropertyOptional({
    description: 'IANA time zone of the expression (default UTC)',
    example: 'Europe/Berlin',
  })
  timezone?: string;

  @ApiPropertyOptional({ description: 'Input of every started execution (JSON, passed as is; default null)' })
  input?: unknown;

  @ApiPropertyOptional({
    enum: ['skip', 'allow'],
    description: 'skip (default): no fire while the previous execution runs; allow: always start',
  })
  overlap?: string;

  @ApiPropertyOptional({ description: 'Create it paused (default false)' })
  paused?: boolean;

  @ApiPropertyOptional({ description: 'Workflow version to start (default: the latest at each fire)' })
  workflowVersion?: number;

  @ApiPropertyOptional({
    description:
      "Schedule id ([A-Za-z0-9_-], not starting with 'wf-'); repeating an identical request returns it",
  })
  id?: string;
}

/** A schedule. */
export class ScheduleDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  workflowId!: string;

  @ApiProperty({ nullable: true, type: Number })
  workflowVersion!: number | null;

  @ApiProperty()
  expression!: string;

  @ApiProperty()
  timezone!: string;

  @ApiProperty({ description: 'Input of every started execution' })
  input!: unknown;

  @ApiProperty({ enum: ['skip', 'allow'] })
  overlap!: string;

  @ApiProperty()
  paused!: boolean;

  @ApiProperty({ enum: ['api', 'definition'] })
  source!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  nextFireAt!: string | null;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  lastFireAt!: string | null;

  @ApiProperty({ nullable: true, type: String })
  lastExecutionId!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'overlap skip: the execution still running' })
  runningExecutionId!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** Reply of `GET /v1/schedules`. */
export class ScheduleListDto {
  @ApiProperty({ type: [ScheduleDto] })
  items!: ScheduleDto[];
}
