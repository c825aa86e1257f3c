import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One alert (OpenAPI shape of `Alert`). */
export class AlertDto {
  @ApiProperty({ description: 'Rule name; alerts are published on baton.alerts.<name>' })
  name!: string;

  @ApiProperty({ enum: ['error-rate', 'stuck-executions', 'consumer-lag'] })
  kind!: string;

  @ApiProperty({ description: 'What the alert is about: workflow:<id>, consumer:<stream>/<durable> or all' })
  key!: string;

  @ApiProperty({ enum: ['firing', 'resolved'] })
  state!: string;

  @ApiProperty({ description: 'Measured value: error rate (0..1), stuck executions, pending messages' })
  value!: number;

  @ApiProperty({ description: "The rule's bound" })
  threshold!: number;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;

  @ApiProperty()
  summary!: string;

  @ApiProperty({ format: 'date-time' })
  firedAt!: string;

  @ApiPropertyOptional({ format: 'date-time' })
  resolvedAt?: string;

  @ApiProperty({ format: 'date-time', description: 'Last evaluation that saw it' })
  evaluatedAt!: string;
}

/** `GET /v1/alerts`. */
export class AlertListDto {
  @ApiProperty({ type: [AlertDto], description: 'Firing now, oldest first' })
  active!: AlertDto[];

  @ApiProperty({ type: [AlertDto], description: 'Resolved lately, newest first (at most 100)' })
  recent!: AlertDto[];

  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'The rules in force (BATON_ALERT_RULES)',
  })
  rules!: Record<string, unknown>[];

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  evaluatedAt!: string | null;
}
