import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  IsOptional,
} from 'class-validator';

import { ExecutionStatus, HistoryEventType, StepStatus, WORKFLOW_ID } from '@baton/contracts';
import { QUERY_LIMITS } from '@baton/persistence';

import { ToInteger } from '../common/transforms';

const EXECUTION_STATUSES = Object.values(ExecutionStatus);
const { executions: EXECUTIONS_LIMIT, history: HISTORY_LIMIT } = QUERY_LIMITS;

/** Query of `GET /v1/executions` (and the `executions.list` request). */
export class ListExecutionsQueryDto {
  @ApiPropertyOptional({ description: 'Only executions of this workflow', example: 'order-fulfillment' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(WORKFLOW_ID, { message: 'must be a workflow id ([a-z0-9-]+)' })
  @MaxLength(128, { message: 'must be at most 128 characters' })
  workflowId?: string;

  @ApiPropertyOptional({ description: 'Only executions in this status', enum: EXECUTION_STATUSES })
  @IsOptional()
  @IsIn(EXECUTION_STATUSES, { message: `must be one of ${EXECUTION_STATUSES.join(', ')}` })
  status?: ExecutionStatus;

  @ApiPropertyOptional({
    description: 'Started at or after (ISO-8601 date-time)',
    example: '2026-01-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'must be an ISO-8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'Started before (ISO-8601 date-time, exclusive)' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'must be an ISO-8601 date-time' })
  to?: string;

  @ApiPropertyOptional({
    description: 'Page size',
    minimum: EXECUTIONS_LIMIT.min,
    maximum: EXECUTIONS_LIMIT.max,
    default: EXECUTIONS_LIMIT.default,
  })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: `must be an integer in ${EXECUTIONS_LIMIT.min}..${EXECUTIONS_LIMIT.max}` })
  @Min(EXECUTIONS_LIMIT.min, {
    message: `must be an integer in ${EXECUTIONS_LIMIT.min}..${EXECUTIONS_LIMIT.max}`,
  })
  @Max(EXECUTIONS_LIMIT.max, {
    message: `must be an integer in ${EXECUTIONS_LIMIT.min}..${EXECUTIONS_LIMIT.max}`,
  })
  limit?: number;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page (opaque)' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(1024, { message: 'is not a valid cursor (pass nextCursor from a previous page)' })
  cursor?: string;
}

/** Query of `GET /v1/executions/:id/history`. */
export class HistoryQueryDto {
  @ApiPropertyOptional({
    description: 'Only events with a greater seq (the `nextAfterSeq` of the previous page)',
    minimum: 0,
  })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: 'must be a non-negative integer' })
  @Min(0, { message: 'must be a non-negative integer' })
  @Max(2_147_483_647, { message: 'must be a non-negative integer' })
  afterSeq?: number;

  @ApiPropertyOptional({
    description: 'Page size',
    minimum: HISTORY_LIMIT.min,
    maximum: HISTORY_LIMIT.max,
    default: HISTORY_LIMIT.default,
  })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: `must be an integer in ${HISTORY_LIMIT.min}..${HISTORY_LIMIT.max}` })
  @Min(HISTORY_LIMIT.min, { message: `must be an integer in ${HISTORY_LIMIT.min}..${HISTORY_LIMIT.max}` })
  @Max(HISTORY_LIMIT.max, { message: `must be an integer in ${HISTORY_LIMIT.min}..${HISTORY_LIMIT.max}` })
  limit?: number;
}

/** Request of `executions.get` over NATS. */
export class ExecutionIdDto {
  @ApiProperty({ description: 'Execution id' })
  @IsString({ message: 'must be a non-empty string' })
  @MinLength(1, { message: 'must be a non-empty string' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  id!: string;
}

/** Request of `executions.history` over NATS: the id plus the history query. */
export class HistoryRequestDto extends HistoryQueryDto {
  @ApiProperty({ description: 'Execution id' })
  @IsString({ message: 'must be a non-empty string' })
  @MinLength(1, { message: 'must be a non-empty string' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  id!: string;
}

/** Error of a step or execution. */
export class ErrorInfoDto {
  @ApiProperty({ description: "Error type (a worker's error name or a Baton error code)" })
  type!: string;

  @ApiProperty()
  message!: string;

  @ApiPropertyOptional()
  nonRetryable?: boolean;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: unknown;
}

/** State of one step. */
export class StepSummaryDto {
  @ApiProperty({ enum: Object.values(StepStatus) })
  status!: StepStatus;

  @ApiProperty()
  attempt!: number;

  @ApiPropertyOptional({ format: 'date-time' })
  startedAt?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  finishedAt?: string;

  @ApiPropertyOptional({ description: 'Output of the step (any JSON)' })
  output?: unknown;

  @ApiPropertyOptional({ type: ErrorInfoDto })
  error?: ErrorInfoDto;
}

/** An execution in a list. */
export class ExecutionListItemDto {
  @ApiProperty()
  executionId!: string;

  @ApiProperty()
  workflowId!: string;

  @ApiProperty()
  version!: number;

  @ApiProperty({ enum: EXECUTION_STATUSES })
  status!: ExecutionStatus;

  @ApiProperty({ description: 'Transition number of the newest history batch applied' })
  revision!: number;

  @ApiProperty({ format: 'date-time' })
  startedAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiPropertyOptional({ format: 'date-time' })
  finishedAt?: string;

  @ApiPropertyOptional({ type: ErrorInfoDto })
  error?: ErrorInfoDto;
}

/** An execution with its input, output and step states. */
export class ExecutionDto extends ExecutionListItemDto {
  @ApiPropertyOptional({ description: 'Input of the execution (any JSON)' })
  input?: unknown;

  @ApiPropertyOptional({ description: 'Output of the execution (any JSON)' })
  output?: unknown;

  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/StepSummaryDto' } })
  steps!: Record<string, StepSummaryDto>;
}

/** A page of executions. */
export class ExecutionPageDto {
  @ApiProperty({ type: [ExecutionListItemDto] })
  items!: ExecutionListItemDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  nextCursor!: string | null;
}

/** One history event. */
export class HistoryEventDto {
  @ApiProperty({ description: 'Gap-free, ordered per execution' })
  seq!: number;

  @ApiProperty({ enum: Object.values(HistoryEventType) })
  type!: HistoryEventType;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiPropertyOptional()
  stepId?: string;

  @ApiPropertyOptional()
  attempt?: number;

  @ApiPropertyOptional()
  itemIndex?: number;

  @ApiPropertyOptional({ enum: [...new Set([...Object.values(StepStatus), ...EXECUTION_STATUSES])] })
  status?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  data?: Record<string, unknown>;
}

/** A page of history. */
export class HistoryPageDto {
  @ApiProperty({ type: [HistoryEventDto] })
  items!: HistoryEventDto[];

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Pass as `afterSeq` for the next page; null when no more events exist yet',
  })
  nextAfterSeq!: number | null;
}
