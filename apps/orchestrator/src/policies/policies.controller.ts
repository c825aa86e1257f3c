import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { BatonError, ErrorCode, MAX_ID_LENGTH, SUBJECT_TOKEN } from '@baton/contracts';

import { PolicyRegistry } from './policy-registry';
import type { RegisteredPolicy } from './policy-registry';
import { parseErrorPolicy } from './policy.schema';

/** Error policies (CONTRACT §3.3): defaults for the failures of steps that name none. */
@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class PoliciesController {
  constructor(@Inject(PolicyRegistry) private readonly registry: PolicyRegistry) {}

  @Post()
  @ApiOperation({
    summary: 'Register or replace an error policy',
    description:
      '201 when new, 200 when replaced or identical (outcome says which); 422 naming each invalid path. ' +
      'errorTypes empty or containing "*" matches every error type.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['name', 'errorTypes', 'onExhausted'],
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
        errorTypes: { type: 'array', items: { type: 'string' } },
        retryPolicy: { type: 'object', description: 'as a step retryPolicy' },
        onExhausted: { enum: ['fail', 'compensate', 'continue', 'escalate'] },
        description: { type: 'string' },
      },
    },
  })
  async put(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const { outcome, policy } = await this.registry.put(parseErrorPolicy(body ?? {}));
    res.status(outcome === 'created' ? 201 : 200);
    return { ...policy, outcome };
  }

  @Get()
  @ApiOperation({ summary: 'Every error policy, by name' })
  list(): { items: RegisteredPolicy[] } {
    return { items: this.registry.list() };
  }

  @Get(':name')
  @ApiOperation({ summary: 'One error policy' })
  get(@Param('name') name: string): RegisteredPolicy {
    const policy = this.registry.get(checkName(name));
    if (policy === undefined) {
      throw new BatonError(ErrorCode.NOT_FOUND, `policy ${name} not found`, { retryable: false });
    }
    return policy;
  }

  @Delete(':name')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete an error policy: definitions naming it resolve without it' })
  async delete(@Param('name') name: string): Promise<{ name: string; deleted: true }> {
    await this.registry.delete(checkName(name));
    return { name, deleted: true };
  }
}

/** A policy name from a path; BAD_REQUEST naming `/name` when it cannot be one. */
export function checkName(name: string): string {
  if (name.length > MAX_ID_LENGTH || !SUBJECT_TOKEN.test(name)) {
    throw new BatonError(ErrorCode.BAD_REQUEST, `invalid policy name ${JSON.stringify(name.slice(0, 80))}`, {
      retryable: false,
      details: [
        { path: '/name', message: `must be 1-${MAX_ID_LENGTH} characters of [A-Za-z0-9_-]`, rule: 'name' },
      ],
    });
  }
  return name;
}
