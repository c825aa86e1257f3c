import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseIntPipe,
  Post,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { WorkflowsService } from './workflows.service';

@ApiTags('workflows')
@ApiBearerAuth()
@Controller('v1/workflows')
export class WorkflowsController {
  constructor(@Inject(WorkflowsService) private readonly workflows: WorkflowsService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a workflow definition (JSON or YAML)',
    description:
      '201 when new; 200 when the identical (id, version) is already registered; 409 when that (id, version) holds a different definition; 422 listing every problem with its path.',
  })
  @ApiConsumes('application/json', 'application/yaml')
  @ApiBody({ schema: { type: 'object', description: 'WorkflowDefinition (CONTRACT §3)' } })
  async register(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const { outcome, workflow } = await this.workflows.register(body);
    res.status(outcome === 'created' ? 201 : 200);
    return { ...workflow, outcome };
  }

  @Get()
  @ApiOperation({ summary: 'The latest version of every registered workflow' })
  list() {
    return { items: this.workflows.list() };
  }

  @Get(':id')
  @ApiOperation({ summary: 'The latest version of a workflow, with the list of its versions' })
  async get(@Param('id') id: string) {
    const { workflow, versions } = await this.workflows.get(id);
    return { ...workflow, versions };
  }

  @Get(':id/versions/:version')
  @ApiOperation({ summary: 'One version of a workflow (deleted versions stay readable)' })
  async getVersion(@Param('id') id: string, @Param('version', ParseIntPipe) version: number) {
    const { workflow, versions } = await this.workflows.get(id, version);
    return { ...workflow, versions };
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete a workflow: no new executions; running ones finish' })
  delete(@Param('id') id: string) {
    return this.workflows.delete(id);
  }
}
