import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';

import { ANALYTICS_WINDOW_NAMES, type WorkflowAnalytics } from '@baton/persistence';

import { StepAnalyticsListDto, WorkflowAnalyticsDto, WorkflowAnalyticsListDto } from './analytics.dto';
import { AnalyticsService, type StepAnalyticsList, type WorkflowAnalyticsList } from './analytics.service';

const WINDOW_QUERY = {
  name: 'window',
  required: false,
  enum: ANALYTICS_WINDOW_NAMES,
  description: 'default 1h',
};

/** Workflow and step analytics over sliding windows (CONTRACT §6, telemetry). */
@ApiTags('analytics')
@Controller('v1/analytics/workflows')
export class AnalyticsController {
  constructor(@Inject(AnalyticsService) private readonly analytics: AnalyticsService) {}

  @Get()
  @ApiOperation({ summary: 'Every workflow with executions started or finished in the window' })
  @ApiQuery(WINDOW_QUERY)
  @ApiOkResponse({ type: WorkflowAnalyticsListDto })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid (named in the error)' })
  list(@Query() query: Record<string, unknown>): Promise<WorkflowAnalyticsList> {
    return this.analytics.workflows(query);
  }

  @Get(':id')
  @ApiOperation({ summary: "One workflow's counts, success rate and duration percentiles in the window" })
  @ApiQuery(WINDOW_QUERY)
  @ApiOkResponse({ type: WorkflowAnalyticsDto })
  @ApiNotFoundResponse({ description: 'No execution of the workflow is recorded' })
  @ApiBadRequestResponse({ description: 'A parameter is invalid (named in the error)' })
  get(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<WorkflowAnalytics> {
    return this.analytics.workflow({ ...query, id });
  }

  @Get(':id/steps')
  @ApiOperation({
    summary: 'Per step: count, failures, success rate, duration percentiles, average attempts',
  })
  @ApiQuery(WINDOW_QUERY)
  @ApiOkResponse({ type: StepAnalyticsListDto })
  @ApiNotFoundResponse({ description: 'No execution of the workflow is recorded' })
  @ApiBadRequestResponse({ description: 'A parameter is invalid (named in the error)' })
  steps(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<StepAnalyticsList> {
    return this.analytics.steps({ ...query, id });
  }
}
