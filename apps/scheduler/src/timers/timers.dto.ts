import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Body of `POST /v1/timers` (validated by the service; this class documents it). */
export class CreateTimerDto {
  @ApiPropertyOptional({ description: 'Seconds from now (give this or `at`)', example: 60 })
  delaySeconds?: number;

  @ApiPropertyOptional({
    description: 'Absolute due time, ISO-8601 (give this or `delaySeconds`); past = at once',
  })
  at?: string;

  @ApiProperty({
    description: 'Subject to publish on: under `events.>` or `baton.orch.>`',
    example: 'events.order.reminder',
  })
  subject!: string;

  @ApiPropertyOptional({ description: 'JSON body of the message (default null)' })
  payload?: unknown;

  @ApiPropertyOptional({ description: 'Timer id ([A-Za-z0-9_-]); repeating it returns the stored timer' })
  id?: string;

  @ApiPropertyOptional({
    description: 'Extra message headers (not `Nats-*`)',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  headers?: Record<string, string>;
}

/** Reply of `POST /v1/timers`. */
export class CreatedTimerDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ format: 'date-time' })
  dueAt!: string;
}

/** A timer. */
export class TimerDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  subject!: string;

  @ApiProperty({ description: 'JSON body of the message' })
  payload!: unknown;

  @ApiProperty({ format: 'date-time' })
  dueAt!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  firedAt!: string | null;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  cancelledAt!: string | null;

  @ApiProperty({ enum: ['PENDING', 'FIRED', 'CANCELLED'] })
  status!: string;
}
