import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import type { ScheduleView } from '@baton/contracts';

import { CreateScheduleDto, ScheduleDto, ScheduleListDto } from './schedules.dto';
import { SchedulesService } from './schedules.service';

/** Cron schedules: start a workflow at every fire time of a cron expression. */
@ApiTags('schedules')
@Controller('v1/schedules')
export class SchedulesController {
  constructor(@Inject(SchedulesService) private readonly schedules: SchedulesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a schedule (idempotent by id)' })
  @ApiBody({ type: CreateScheduleDto })
  @ApiCreatedResponse({ type: ScheduleDto })
  @ApiConflictResponse({ description: 'The id is used by a different schedule' })
  @ApiUnprocessableEntityResponse({ description: 'A field is invalid (named in the error)' })
  create(@Body() body: unknown): Promise<ScheduleView> {
    return this.schedules.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List schedules in id order' })
  @ApiQuery({ name: 'workflowId', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000 (default 1000)' })
  @ApiOkResponse({ type: ScheduleListDto })
  list(@Query() query: Record<string, unknown>): Promise<{ items: ScheduleView[] }> {
    return this.schedules.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a schedule' })
  @ApiOkResponse({ type: ScheduleDto })
  @ApiNotFoundResponse({ description: 'Unknown schedule' })
  get(@Param('id') id: string): Promise<ScheduleView> {
    return this.schedules.get({ id });
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a schedule created over the API' })
  @ApiOkResponse({ type: ScheduleDto })
  @ApiNotFoundResponse({ description: 'Unknown schedule' })
  @ApiConflictResponse({ description: 'The schedule belongs to a workflow definition' })
  delete(@Param('id') id: string): Promise<ScheduleView> {
    return this.schedules.delete({ id });
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause a schedule (no fires until resumed)' })
  @ApiOkResponse({ type: ScheduleDto })
  @ApiNotFoundResponse({ description: 'Unknown schedule' })
  pause(@Param('id') id: string): Promise<ScheduleView> {
    return this.schedules.pause({ id });
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a schedule: it fires again from the next time after now' })
  @ApiOkResponse({ type: ScheduleDto })
  @ApiNotFoundResponse({ description: 'Unknown schedule' })
  resume(@Param('id') id: string): Promise<ScheduleView> {
    return this.schedules.resume({ id });
  }
}
