import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { HistoryEvent } from '@baton/contracts';
import type { ExecutionListItem, ExecutionRecord, HistoryPage, Page } from '@baton/persistence';

import {
  ExecutionDto,
  ExecutionPageDto,
  HistoryPageDto,
  HistoryQueryDto,
  ListExecutionsQueryDto,
} from './executions.dto';
import { ExecutionsService } from './executions.service';

/** Executions as recorded from their history (CONTRACT §6, state-store). */
@ApiTags('executions')
@Controller('v1/executions')
export class ExecutionsController {
  constructor(@Inject(ExecutionsService) private readonly executions: ExecutionsService) {}

  @Get()
  @ApiOperation({
    summary: 'List executions, newest first',
    description: 'Filters by workflow, status and start time; keyset-paginated by an opaque cursor.',
  })
  @ApiOkResponse({ type: ExecutionPageDto })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid (named in the error)' })
  list(@Query() query: ListExecutionsQueryDto): Promise<Page<ExecutionListItem>> {
    return this.executions.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One execution: status, input, output, error and step states' })
  @ApiOkResponse({ type: ExecutionDto })
  @ApiNotFoundResponse({ description: 'Unknown execution' })
  get(@Param('id') id: string): Promise<ExecutionRecord> {
    return this.executions.get(id);
  }

  @Get(':id/history')
  @ApiOperation({ summary: 'History of an execution in seq order, paged by afterSeq' })
  @ApiOkResponse({ type: HistoryPageDto })
  @ApiNotFoundResponse({ description: 'Unknown execution' })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid (named in the error)' })
  history(@Param('id') id: string, @Query() query: HistoryQueryDto): Promise<HistoryPage<HistoryEvent>> {
    return this.executions.history(id, query);
  }
}
