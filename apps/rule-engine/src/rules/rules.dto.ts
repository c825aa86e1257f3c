import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A rule action: the first one's `type` is the rule's event type (the decision outcome). */
export class RuleActionDto {
  @ApiProperty({ example: 'approve', description: 'Token of [A-Za-z0-9_-]' })
  type!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  params?: Record<string, unknown>;
}

/** A rule as written (`POST /v1/rules`, `PUT /v1/rules/:id`). Unknown fields are rejected. */
export class RuleInputDto {
  @ApiProperty({
    example: 'high-value-review',
    description: '[a-z0-9-]+, at most 128 characters (optional on PUT)',
  })
  id!: string;

  @ApiProperty({ example: 'High-value orders need review' })
  name!: string;

  @ApiPropertyOptional({ default: '' })
  description?: string;

  @ApiProperty({
    example: 'fraud-policy',
    description: 'Token of [A-Za-z0-9_-]; rules are evaluated by category',
  })
  category!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'json-rules-engine condition: all / any / not of { fact, operator, value, path? }',
    example: { all: [{ fact: 'order', path: '$.total', operator: 'greaterThan', value: 1000 }] },
  })
  condition!: Record<string, unknown>;

  @ApiProperty({ type: [RuleActionDto] })
  actions!: RuleActionDto[];

  @ApiPropertyOptional({ default: 0, description: 'Higher decides first' })
  priority?: number;

  @ApiPropertyOptional({ default: true })
  enabled?: boolean;
}

/** A live rule. */
export class RuleDto extends RuleInputDto {
  @ApiProperty({ description: 'Current version: 1, then one more per update' })
  version!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** Live rules. */
export class RuleListDto {
  @ApiProperty({ type: [RuleDto] })
  items!: RuleDto[];
}

/** One immutable version of a rule. */
export class RuleVersionDto extends RuleInputDto {
  @ApiProperty()
  version!: number;

  @ApiProperty({ enum: ['create', 'update', 'delete'] })
  operation!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;
}

/** Every version of a rule, oldest first. */
export class RuleVersionListDto {
  @ApiProperty({ type: [RuleVersionDto] })
  items!: RuleVersionDto[];
}

/** `POST /v1/rules/:id/evaluate`. */
export class EvaluateOneRequestDto {
  @ApiProperty({ type: 'object', additionalProperties: true, example: { order: { total: 1200 } } })
  facts!: Record<string, unknown>;
}

/** `POST /v1/rules/evaluate`: exactly one of `category` and `ruleIds`. */
export class EvaluateRequestDto {
  @ApiPropertyOptional({ example: 'fraud-policy' })
  category?: string;

  @ApiPropertyOptional({ type: [String], maxItems: 100 })
  ruleIds?: string[];

  @ApiProperty({ type: 'object', additionalProperties: true, example: { order: { total: 1200 } } })
  facts!: Record<string, unknown>;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'With a category: evaluate the rules as they were at this time (what a pinned decision step does)',
  })
  asOf?: string;
}

/** A rule's event. */
export class RuleEventDto {
  @ApiProperty({ example: 'review' })
  type!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  params?: Record<string, unknown>;
}

/** How one rule evaluated. */
export class SingleEvaluationDto {
  @ApiProperty()
  ruleId!: string;

  @ApiProperty()
  version!: number;

  @ApiProperty()
  satisfied!: boolean;

  @ApiPropertyOptional({ type: RuleEventDto, description: 'Present when satisfied' })
  event?: RuleEventDto;
}

/** One rule's part in a decision. */
export class RuleEvaluationDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  version!: number;

  @ApiProperty()
  priority!: number;

  @ApiProperty()
  satisfied!: boolean;

  @ApiProperty({ type: RuleEventDto })
  event!: RuleEventDto;
}

/** A decision (CONTRACT §3.2). */
export class DecisionDto {
  @ApiProperty({
    example: 'review',
    description: 'Event type of the highest-priority satisfied rule, else `default`',
  })
  outcome!: string;

  @ApiProperty({ type: [RuleEvaluationDto] })
  rules!: RuleEvaluationDto[];
}
