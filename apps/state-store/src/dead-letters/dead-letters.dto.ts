import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

import { QUERY_LIMITS } from '@baton/persistence';

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

  @ApiPropertyOptional({ description: 'Include dead letters marked resolved (default false)', type: Boolean })
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

/** A dead letter. */
export class DeadLetterDto {
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

  @ApiPropertyOptional({ format: 'date-time', description: 'When an operator marked it resolved' })
  resolvedAt?: string;
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
