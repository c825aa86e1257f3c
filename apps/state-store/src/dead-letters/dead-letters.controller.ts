import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import type { DeadLetterView, Page } from '@baton/persistence';

import {
  DeadLetterDto,
  DeadLetterPageDto,
  DiscardDeadLetterDto,
  ListDeadLettersQueryDto,
  RedriveDeadLetterDto,
} from './dead-letters.dto';
import { DeadLettersService } from './dead-letters.service';

/** Messages consumers gave up on (stream BATON_DLQ), for operators: list, re-drive, discard. */
@ApiTags('dead-letters')
@Controller('v1/dead-letters')
export class DeadLettersController {
  constructor(@Inject(DeadLettersService) private readonly deadLetters: DeadLettersService) {}

  @Get()
  @ApiOperation({
    summary: 'List dead letters, newest first',
    description:
      'DEAD only unless status is given or includeResolved=true; filters by stream, consumer (durable) and ' +
      'subject; keyset-paginated.',
  })
  @ApiOkResponse({ type: DeadLetterPageDto })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid (named in the error)' })
  list(@Query() query: ListDeadLettersQueryDto): Promise<Page<DeadLetterView>> {
    return this.deadLetters.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One dead letter (`<stream>.<consumer>.<streamSequence>`)' })
  @ApiOkResponse({ type: DeadLetterDto })
  @ApiNotFoundResponse({ description: 'Unknown dead letter' })
  get(@Param('id') id: string): Promise<DeadLetterView> {
    return this.deadLetters.get({ id });
  }

  @Post(':id/redrive')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Re-publish the original message to its subject, with its headers; the dead letter becomes REDRIVEN',
    description:
      'Published with Nats-Msg-Id `redrive:<id>`, so a repeated redrive inside the duplicate window stores ' +
      'nothing new. A message that fails again becomes a new dead letter.',
  })
  @ApiOkResponse({ type: DeadLetterDto })
  @ApiNotFoundResponse({ description: 'Unknown dead letter' })
  @ApiConflictResponse({ description: 'Already re-driven or discarded, or only a cut copy was kept' })
  @ApiUnprocessableEntityResponse({ description: 'The body is invalid (fields named in the error)' })
  redrive(@Param('id') id: string, @Body() body: RedriveDeadLetterDto): Promise<DeadLetterView> {
    return this.deadLetters.redrive(id, body);
  }

  @Post(':id/discard')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give up on a dead letter, with a reason; it becomes DISCARDED' })
  @ApiOkResponse({ type: DeadLetterDto })
  @ApiNotFoundResponse({ description: 'Unknown dead letter' })
  @ApiConflictResponse({ description: 'Already re-driven or discarded' })
  @ApiUnprocessableEntityResponse({ description: 'The body is invalid (reason missing)' })
  discard(@Param('id') id: string, @Body() body: DiscardDeadLetterDto): Promise<DeadLetterView> {
    return this.deadLetters.discard(id, body);
  }

  @Post(':stream/:sequence/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Discard every DEAD dead letter of one message with reason `resolved` (idempotent)',
    deprecated: true,
  })
  @ApiOkResponse({ type: DeadLetterDto })
  @ApiNotFoundResponse({ description: 'Unknown dead letter' })
  resolve(@Param('stream') stream: string, @Param('sequence') sequence: string): Promise<DeadLetterView> {
    return this.deadLetters.resolve({ stream, sequence });
  }
}
