import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
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

import type { RuleVersion, StoredRule } from '@baton/persistence';

import type { Decision } from './rule-set';
import {
  DecisionDto,
  EvaluateOneRequestDto,
  EvaluateRequestDto,
  RuleDto,
  RuleInputDto,
  RuleListDto,
  RuleVersionDto,
  RuleVersionListDto,
  SingleEvaluationDto,
} from './rules.dto';
import { RulesService, type SingleEvaluation } from './rules.service';

/** Rules and decisions (CONTRACT §6). */
@ApiTags('rules')
@Controller('v1/rules')
export class RulesController {
  constructor(@Inject(RulesService) private readonly rules: RulesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a rule (version 1)' })
  @ApiBody({ type: RuleInputDto })
  @ApiCreatedResponse({ type: RuleDto })
  @ApiConflictResponse({ description: 'A rule with this id exists' })
  @ApiUnprocessableEntityResponse({
    description: 'The rule is invalid; details list every problem with its path',
  })
  create(@Body() body: unknown): Promise<StoredRule> {
    return this.rules.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List live rules, highest priority first' })
  @ApiQuery({ name: 'category', required: false })
  @ApiOkResponse({ type: RuleListDto })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid' })
  list(@Query() query: Record<string, unknown>): Promise<{ items: StoredRule[] }> {
    return this.rules.list(query);
  }

  @Post('evaluate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Evaluate the enabled rules of a category, or the named rules, against facts',
    description:
      'outcome: the event type of the highest-priority satisfied rule; `default` when none is satisfied.',
  })
  @ApiBody({ type: EvaluateRequestDto })
  @ApiOkResponse({ type: DecisionDto })
  @ApiNotFoundResponse({ description: 'A named rule is unknown' })
  evaluate(@Body() body: unknown): Promise<Decision> {
    return this.rules.evaluate(body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A live rule' })
  @ApiOkResponse({ type: RuleDto })
  @ApiNotFoundResponse({ description: 'Unknown or deleted rule' })
  get(@Param('id') id: string): Promise<StoredRule> {
    return this.rules.get({ id });
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace a rule: a new version' })
  @ApiBody({ type: RuleInputDto })
  @ApiOkResponse({ type: RuleDto })
  @ApiNotFoundResponse({ description: 'Unknown or deleted rule' })
  @ApiUnprocessableEntityResponse({
    description: 'The rule is invalid; details list every problem with its path',
  })
  update(@Param('id') id: string, @Body() body: unknown): Promise<StoredRule> {
    return this.rules.update(id, body);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a rule: a tombstone version; its history stays' })
  @ApiOkResponse({ type: RuleVersionDto })
  @ApiNotFoundResponse({ description: 'Unknown or deleted rule' })
  remove(@Param('id') id: string): Promise<RuleVersion> {
    return this.rules.remove({ id });
  }

  @Get(':id/versions')
  @ApiOperation({ summary: 'Every version of a rule, oldest first (deletions included)' })
  @ApiOkResponse({ type: RuleVersionListDto })
  @ApiNotFoundResponse({ description: 'No rule ever had this id' })
  versions(@Param('id') id: string): Promise<{ items: RuleVersion[] }> {
    return this.rules.versions({ id });
  }

  @Post(':id/evaluate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Evaluate one rule (enabled or not) against facts' })
  @ApiBody({ type: EvaluateOneRequestDto })
  @ApiOkResponse({ type: SingleEvaluationDto })
  @ApiNotFoundResponse({ description: 'Unknown or deleted rule' })
  evaluateOne(@Param('id') id: string, @Body() body: unknown): Promise<SingleEvaluation> {
    const facts =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as { facts?: unknown }).facts
        : undefined;
    return this.rules.evaluateOne({ id, facts });
  }
}
