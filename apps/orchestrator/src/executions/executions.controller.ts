import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';

import { BatonError, ErrorCode } from '@baton/contracts';
import type { ErrorDetail } from '@baton/contracts';

import { ExecutionsService } from './executions.service';
import { CompleteTaskDto, FailTaskDto, StartExecutionDto } from './start-execution.dto';

const startSchema = z
  .object({
    input: z.unknown().optional(),
    executionId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be 1-128 characters of [A-Za-z0-9_-]')
      .optional(),
    version: z.number().int().positive().optional(),
  })
  .strict();

const completeSchema = z.object({ output: z.unknown().optional() }).strict();
const failSchema = z
  .object({
    error: z
      .object({
        type: z.string().min(1).max(200),
        message: z.string().max(10_000),
        nonRetryable: z.boolean().optional(),
        details: z.unknown().optional(),
      })
      .strict(),
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
    const request = parse(startSchema, body ?? {}, 'body');
    return this.executions.startFromApi(id, request, headersOf(req));
  }

  @Get('executions/:id')
  @ApiOperation({
    summary: 'The live state of an execution: status, per-step states, attempts, outputs, errors',
  })
  get(@Param('id') id: string) {
    return this.executions.get(id);
  }

  @Post('tasks/:token/complete')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Complete a task for a human or an external system, with the token carried in the task',
  })
  complete(@Param('token') token: string, @Body() body: CompleteTaskDto) {
    const { output } = parse(completeSchema, body ?? {}, 'body');
    return this.executions.completeTask(token, { output });
  }

  @Post('tasks/:token/fail')
  @HttpCode(202)
  @ApiOperation({ summary: 'Fail a task for a human or an external system' })
  fail(@Param('token') token: string, @Body() body: FailTaskDto) {
    const { error } = parse(failSchema, body ?? {}, 'body');
    return this.executions.completeTask(token, { error });
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details: ErrorDetail[] = parsed.error.issues.map((issue) => ({
    path: `/${issue.path.map(String).join('/')}`,
    message: issue.message,
    rule: issue.code,
  }));
  throw new BatonError(
    ErrorCode.VALIDATION_FAILED,
    `invalid ${what}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
    {
      details,
      retryable: false,
    },
  );
}

function headersOf(req: Request): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = req.headers[name];
    if (typeof value === 'string') out[name] = [value];
  }
  return out;
}
