import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

import { DeadLetterStatus, QUERY_LIMITS } from '@baton/persistence';

import { ToBoolean, ToInteger } from '../common/transforms';

const LIMIT = QUERY_LIMITS.deadLetters;
const NAME = /^[A-Za-z0-9_-]+$/;

/** Query of `GET /v1/dead-letters` (and the `dead-letters.list` request). */
export class ListDeadLettersQueryDto {
  @ApiPropertyOptional({ description: 'Only dead letters from this stream', example: 'BATON_TASKS' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(NAME, { message: 'must be a stream name ([A-Za-z0-9_-]+)' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  stream?: string;

  @ApiPropertyOptional({ description: 'Only dead letters of this durable consumer', example: 'orchestrator' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(NAME, { message: 'must be a consumer name ([A-Za-z0-9_-]+)' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  consumer?: string;

  @ApiPropertyOptional({ description: 'Same as `consumer`', example: 'task_inventory_reserve' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(NAME, { message: 'must be a consumer name ([A-Za-z0-9_-]+)' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  durable?: string;

  @ApiPropertyOptional({
    description: 'Only dead letters of messages on this subject',
    example: 'baton.tasks.inventory.reserve',
  })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must be a subject' })
  @MaxLength(512, { message: 'must be at most 512 characters' })
  subject?: string;

  @ApiPropertyOptional({
    description: 'Only this status (default DEAD, or every status with includeResolved=true)',
    enum: Object.values(DeadLetterStatus),
  })
  @IsOptional()
  @IsIn(Object.values(DeadLetterStatus), {
    message: `must be one of ${Object.values(DeadLetterStatus).join(', ')}`,
  })
  status?: DeadLetterStatus;

  @ApiPropertyOptional({
    description: 'Include re-driven and discarded dead letters (default false)',
    type: Boolean,
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  includeResolved?: boolean;

  @ApiPropertyOptional({
    description: 'Page size',
    minimum: LIMIT.min,
    maximum: LIMIT.max,
    default: LIMIT.default,
  })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: `must be an integer in ${LIMIT.min}..${LIMIT.max}` })
  @Min(LIMIT.min, { message: `must be an integer in ${LIMIT.min}..${LIMIT.max}` })
  @Max(LIMIT.max, { message: `must be an integer in ${LIMIT.min}..${LIMIT.max}` })
  limit?: number;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page (opaque)' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(1024, { message: 'is not a valid cursor (pass nextCursor from a previous page)' })
  cursor?: string;
}

/** Which dead letter: path of `POST /v1/dead-letters/:stream/:sequence/resolve` (and `dead-letters.resolve`). */
export class DeadLetterKeyDto {
  @ApiProperty({ description: 'Stream of the original message', example: 'BATON_TASKS' })
  @IsString({ message: 'must be a string' })
  @Matches(NAME, { message: 'must be a stream name ([A-Za-z0-9_-]+)' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  stream!: string;

  @ApiProperty({ description: 'Sequence of the original message in its stream', minimum: 1 })
  @ToInteger()
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'must be a positive integer' })
  sequence!: number;
}

const DEAD_LETTER_ID = /^[A-Za-z0-9_-]{1,256}\.[A-Za-z0-9_-]{1,256}\.[1-9][0-9]{0,15}$/;

/** Path of `GET /v1/dead-letters/:id` and the redrive/discard actions. */
export class DeadLetterIdDto {
  @ApiProperty({
    description: '`<stream>.<consumer>.<streamSequence>`',
    example: 'BATON_TASKS.task_inventory_reserve.42',
  })
  @IsString({ message: 'must be a string' })
  @Matches(DEAD_LETTER_ID, { message: 'must be <stream>.<consumer>.<streamSequence>' })
  id!: string;
}

/** Body of `POST /v1/dead-letters/:id/redrive`. */
export class RedriveDeadLetterDto {
  @ApiPropertyOptional({ description: 'Who re-drives it (default `operator`)', maxLength: 256 })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must not be empty' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  by?: string;
}

/** Body of `POST /v1/dead-letters/:id/discard`. */
export class DiscardDeadLetterDto {
  @ApiProperty({ description: 'Why it is given up on', maxLength: 1024 })
  @IsString({ message: 'must be a non-empty string' })
  @MinLength(1, { message: 'must be a non-empty string' })
  @MaxLength(1024, { message: 'must be at most 1024 characters' })
  reason!: string;

  @ApiPropertyOptional({ description: 'Who discards it (default `operator`)', maxLength: 256 })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must not be empty' })
  @MaxLength(256, { message: 'must be at most 256 characters' })
  by?: string;
}

/** Where a re-driven message was published. */
export class DeadLetterRedriveDto {
  @ApiProperty({ description: 'Nats-Msg-Id of the re-published message: `redrive:<id>`' })
  msgId!: string;

  @ApiProperty({ description: 'Its sequence in the original stream' })
  streamSequence!: number;
}

/** A dead letter. */
export class DeadLetterDto {
  @ApiProperty({ description: '`<stream>.<consumer>.<streamSequence>`' })
  id!: string;

  @ApiProperty({ enum: Object.values(DeadLetterStatus) })
  status!: DeadLetterStatus;

  @ApiProperty({ description: 'Stream of the original message' })
  stream!: string;

  @ApiProperty({ description: 'Durable consumer that gave up on it' })
  consumer!: string;

  @ApiProperty({ description: 'Subject of the original message' })
  subject!: string;

  @ApiProperty({ description: 'Sequence of the original message in its stream' })
  streamSequence!: number;

  @ApiProperty({ description: 'Deliveries before it was dead-lettered' })
  deliveries!: number;

  @ApiProperty({ example: 'VALIDATION_FAILED' })
  errorCode!: string;

  @ApiProperty()
  error!: string;

  @ApiProperty({ format: 'date-time' })
  deadAt!: string;

  @ApiProperty({ description: 'The original payload, base64', format: 'byte' })
  data!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } })
  headers!: Record<string, string[]>;

  @ApiPropertyOptional({ description: 'The payload copy was cut to fit the dead-letter stream (no redrive)' })
  truncated?: boolean;

  @ApiPropertyOptional({ format: 'date-time', description: 'When it was re-driven or discarded' })
  resolvedAt?: string;

  @ApiPropertyOptional({ description: 'Who re-drove or discarded it' })
  resolvedBy?: string;

  @ApiPropertyOptional({ description: 'Why it was discarded' })
  reason?: string;

  @ApiPropertyOptional({ type: DeadLetterRedriveDto })
  redrive?: DeadLetterRedriveDto;
}

/** A page of dead letters. */
export class DeadLetterPageDto {
  @ApiProperty({ type: [DeadLetterDto] })
  items!: DeadLetterDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  nextCursor!: string | null;
}
