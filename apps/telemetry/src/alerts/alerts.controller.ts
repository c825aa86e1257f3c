import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { AlertListDto } from './alerts.dto';
import { type AlertList, AlertsService } from './alerts.service';

/** Alerts of the telemetry service's rules (CONTRACT §6, telemetry). */
@ApiTags('alerts')
@Controller('v1/alerts')
export class AlertsController {
  constructor(@Inject(AlertsService) private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({
    summary: 'Alerts firing now and resolved lately, with the rules in force',
    description: 'Each firing and resolution is also published on baton.alerts.<rule> (stream BATON_ALERTS).',
  })
  @ApiOkResponse({ type: AlertListDto })
  list(): AlertList {
    return this.alerts.list();
  }
}
