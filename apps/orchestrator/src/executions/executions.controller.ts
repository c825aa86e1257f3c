import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';

import { ExecutionsService } from './executions.service';
import { errorInfoSchema, idTokenSchema, parseWith, signalNameSchema } from './inbound-messages';
import {
  CompleteTaskDto,
  FailTaskDto,
  SendSignalDto,
  StartExecutionDto,
  TerminateDto,
} from './start-execution.dto';

const startSchema = z
  .object({
    input: z.unknown().optional(),
    executionId: idTokenSchema.optional(),
    version: z.number().int().positive().optional(),
  })
  .strict();

const signalSchema = z
  .object({ payload: z.unknown().optional(), signalId: z.string().min(1).max(256).optional() })
  .strict();
const terminateSchema = z.object({ reason: z.string().min(1).max(2_000).optional() }).strict();

const completeSchema = z.object({ output: z.unknown().optional() }).strict();
const failSchema = z
  .object({
    error: errorInfoSchema.strict(),
  })
  .strict();

@ApiTags('executions')
@ApiBearerAuth()
@Controller('v1')
export class ExecutionsController {
  constructor(@Inject(ExecutionsService) private readonly executions: ExecutionsService) {}

  @Post('workflows/:id/executions')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start an execution',
    description: 'Idempotent by executionId: repeating it returns the same execution (202, created: false).',
  })
  start(@Param('id') id: string, @Body() body: StartExecutionDto, @Req() req: Request) {
    const request = parseWith(startSchema, body ?? {}, 'invalid body');
    return this.executions.startFromApi(id, request, headersOf(req));
  }

  @Get('executions/:id')
  @ApiOperation({
    summary: 'The live state of an execution: status, per-step states, attempts, outputs, errors',
  })
  get(@Param('id') id: string) {
    return this.executions.get(id);
  }

  @Post('executions/:id/signals/:name')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a signal',
    description:
      'Completes the wait step waiting for this signal, or is kept until one waits. Repeating a signalId sends it once.',
  })
  signal(@Param('id') id: string, @Param('name') name: string, @Body() body: SendSignalDto) {
    const parsedName = parseWith(signalNameSchema, name, 'invalid signal name');
    const request = parseWith(signalSchema, body ?? {}, 'invalid body');
    return this.executions.sendSignal(id, parsedName, request);
  }

  @Post('executions/:id/terminate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Terminate an execution',
    description:
      'Stops scheduling, cancels running attempts (workers see their abort signal) and ends it TERMINATED.',
  })
  terminate(@Param('id') id: string, @Body() body: TerminateDto) {
    const { reason } = parseWith(terminateSchema, body ?? {}, 'invalid body');
    return this.executions.terminate(id, reason ?? 'terminated by an operator');
  }

  @Post('executions/:id/retry')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Retry a failed or escalated execution',
    description:
      'Resumes it from its failed step (or its failed compensation), keeping the outputs of completed steps.',
  })
  retry(@Param('id') id: string) {
    return this.executions.retry(id);
  }

  @Post('tasks/:token/complete')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Complete a task for a human or an external system, with the token carried in the task',
  })
  complete(@Param('token') token: string, @Body() body: CompleteTaskDto) {
    const { output } = parseWith(completeSchema, body ?? {}, 'invalid body');
    return this.executions.completeTask(token, { output });
  }

  @Post('tasks/:token/fail')
  @HttpCode(202)
  @ApiOperation({ summary: 'Fail a task for a human or an external system' })
  fail(@Param('token') token: string, @Body() body: FailTaskDto) {
    const { error } = parseWith(failSchema, body ?? {}, 'invalid body');
    return this.executions.completeTask(token, { error });
  }
}

function headersOf(req: Request): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = req.headers[name];
    if (typeof value === 'string') out[name] = [value];
  }
  return out;
}
