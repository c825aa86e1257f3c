import { Body, Controller, Delete, Get, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import type { TimerView } from '@baton/contracts';

import { CreateTimerDto, CreatedTimerDto, TimerDto } from './timers.dto';
import { TimersService } from './timers.service';

/** Durable timers: a message published on a subject at a due time. */
@ApiTags('timers')
@Controller('v1/timers')
export class TimersController {
  constructor(@Inject(TimersService) private readonly timers: TimersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a timer (idempotent by id)' })
  @ApiBody({ type: CreateTimerDto })
  @ApiCreatedResponse({ type: CreatedTimerDto })
  @ApiUnprocessableEntityResponse({ description: 'A field is invalid (named in the error)' })
  create(@Body() body: unknown): Promise<{ id: string; dueAt: string }> {
    return this.timers.create(body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a timer' })
  @ApiOkResponse({ type: TimerDto })
  @ApiNotFoundResponse({ description: 'Unknown timer' })
  get(@Param('id') id: string): Promise<TimerView> {
    return this.timers.get({ id });
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel a pending timer (cancelling again is a no-op)' })
  @ApiOkResponse({ type: TimerDto })
  @ApiNotFoundResponse({ description: 'Unknown timer' })
  @ApiConflictResponse({ description: 'The timer already fired' })
  cancel(@Param('id') id: string): Promise<TimerView> {
    return this.timers.cancel({ id });
  }
}
