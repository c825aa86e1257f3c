import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One endpoint of a service instance. */
export class EndpointViewDto {
  @ApiProperty({ example: 'analytics-workflows' })
  name!: string;

  @ApiProperty({ example: 'baton.api.telemetry.analytics.workflows' })
  subject!: string;

  @ApiProperty()
  requests!: number;

  @ApiProperty()
  errors!: number;

  @ApiProperty({ description: 'Average processing time, ms' })
  averageProcessingMs!: number;

  @ApiPropertyOptional()
  lastError?: string;
}

/** Totals of an instance's `$SRV.STATS`. */
export class InstanceStatsDto {
  @ApiProperty()
  requests!: number;

  @ApiProperty()
  errors!: number;

  @ApiProperty({ description: 'Total processing time, ms' })
  processingMs!: number;

  @ApiProperty({ description: 'When the instance started (ISO-8601)' })
  started!: string;
}

/** One discovered Baton service instance. */
export class ServiceInstanceDto {
  @ApiProperty({ example: 'baton-state-store' })
  name!: string;

  @ApiProperty({ description: 'Instance id (unique per process)' })
  id!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ type: [EndpointViewDto] })
  endpoints!: EndpointViewDto[];

  @ApiProperty({ type: InstanceStatsDto, nullable: true })
  stats!: InstanceStatsDto | null;

  @ApiProperty({
    enum: ['up', 'down'],
    description: 'up: answers discovery now; down: answered before, not now',
  })
  health!: string;

  @ApiProperty({ description: 'Last time it answered (ISO-8601)' })
  lastSeen!: string;
}

/** `GET /v1/services`. */
export class ServiceListDto {
  @ApiProperty({ type: [ServiceInstanceDto] })
  items!: ServiceInstanceDto[];
}
