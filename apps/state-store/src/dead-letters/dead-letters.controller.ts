import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { DeadLetterView, Page } from '@baton/persistence';

import { DeadLetterDto, DeadLetterPageDto, ListDeadLettersQueryDto } from './dead-letters.dto';
import { DeadLettersService } from './dead-letters.service';

/** Messages consumers gave up on (stream BATON_DLQ), for operators. */
@ApiTags('dead-letters')
@Controller('v1/dead-letters')
export class DeadLettersController {
  constructor(@Inject(DeadLettersService) private readonly deadLetters: DeadLettersService) {}

  @Get()
  @ApiOperation({
    summary: 'List dead letters, newest first',
    description:
      'Unresolved only unless includeResolved=true; filters by stream and consumer; keyset-paginated.',
  })
  @ApiOkResponse({ type: DeadLetterPageDto })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid (named in the error)' })
  list(@Query() query: ListDeadLettersQueryDto): Promise<Page<DeadLetterView>> {
    return this.deadLetters.list(query);
  }

  @Post(':stream/:sequence/resolve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a dead letter resolved: it leaves the default listing (idempotent)' })
  @ApiOkResponse({ type: DeadLetterDto })
  @ApiNotFoundResponse({ description: 'Unknown dead letter' })
  resolve(@Param('stream') stream: string, @Param('sequence') sequence: string): Promise<DeadLetterView> {
    return this.deadLetters.resolve({ stream, sequence });
  }
}
