import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ACTION, BatonError, ErrorCode, MAX_ACTION_LENGTH } from '@baton/contracts';

import { CircuitBreaker } from './circuit-breaker';
import type { CircuitView } from './circuit-breaker';

/** Circuit breaking per action, as this orchestrator instance sees it. */
@ApiTags('circuits')
@ApiBearerAuth()
@Controller('v1/circuits')
export class CircuitsController {
  constructor(@Inject(CircuitBreaker) private readonly breaker: CircuitBreaker) {}

  @Get()
  @ApiOperation({
    summary: "This instance's circuit of every action that failed here",
    description: 'Each orchestrator instance keeps its own circuits, fed by the task results it applies.',
  })
  list(): { enabled: boolean; items: CircuitView[] } {
    return { enabled: this.breaker.enabled, items: this.breaker.states() };
  }

  @Get(':action')
  @ApiOperation({ summary: 'The circuit of one action (closed when it has not failed here)' })
  get(@Param('action') action: string): CircuitView {
    if (action.length > MAX_ACTION_LENGTH || !ACTION.test(action)) {
      throw new BatonError(ErrorCode.BAD_REQUEST, `invalid action ${JSON.stringify(action.slice(0, 80))}`, {
        retryable: false,
        details: [
          {
            path: '/action',
            message: `must be dot-separated tokens of [A-Za-z0-9-], at most ${MAX_ACTION_LENGTH} characters`,
            rule: 'action',
          },
        ],
      });
    }
    return this.breaker.state(action);
  }
}
