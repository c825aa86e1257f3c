import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ServiceListDto } from './services.dto';
import { type ServiceList, ServicesService } from './services.service';

/** Health of every Baton service instance, from NATS micro discovery (CONTRACT §6, telemetry). */
@ApiTags('services')
@Controller('v1/services')
export class ServicesController {
  constructor(@Inject(ServicesService) private readonly services: ServicesService) {}

  @Get()
  @ApiOperation({
    summary: 'Every Baton service instance with its endpoints, request/error counts and health',
    description:
      'Discovered with $SRV.INFO and $SRV.STATS; instances that stopped answering are listed as down.',
  })
  @ApiOkResponse({ type: ServiceListDto })
  list(): Promise<ServiceList> {
    return this.services.list();
  }
}
