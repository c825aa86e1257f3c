import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

import type { WorkerView } from './worker.registry';
import { type QueueView, WorkersService } from './workers.service';

class WorkerDto {
  @ApiProperty() workerId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) actions!: string[];
  @ApiProperty() concurrency!: number;
  @ApiProperty() version!: string;
  @ApiProperty({ format: 'date-time' }) lastSeenAt!: string;
  @ApiProperty({ enum: ['live', 'stale'] }) status!: string;
}

class WorkerListDto {
  @ApiProperty({ type: [WorkerDto] }) items!: WorkerDto[];
}

class QueueDto {
  @ApiProperty({ example: 'payments.charge' }) action!: string;
  @ApiProperty({ example: 'task_payments_charge' }) durable!: string;
  @ApiProperty({ description: 'Tasks not yet delivered' }) pending!: number;
  @ApiProperty({ description: 'Delivered, not yet acked' }) inFlight!: number;
  @ApiProperty({ description: 'Delivered more than once' }) redelivered!: number;
  @ApiProperty({ description: 'Live workers serving the action' }) consumers!: number;
  @ApiProperty({ description: 'Pull requests waiting' }) waiting!: number;
}

class QueueListDto {
  @ApiProperty({ type: [QueueDto] }) items!: QueueDto[];
}

/** Workers and their task queues. */
@ApiTags('workers')
@Controller('v1')
export class WorkersController {
  constructor(@Inject(WorkersService) private readonly workers: WorkersService) {}

  @Get('workers')
  @ApiOperation({ summary: 'Workers known from their heartbeats (live within 15 s, else stale)' })
  @ApiOkResponse({ type: WorkerListDto })
  listWorkers(): Promise<{ items: WorkerView[] }> {
    return this.workers.listWorkers();
  }

  @Get('queues')
  @ApiOperation({ summary: 'Task queues: one per action consumer on BATON_TASKS' })
  @ApiOkResponse({ type: QueueListDto })
  listQueues(): Promise<{ items: QueueView[] }> {
    return this.workers.listQueues();
  }
}
