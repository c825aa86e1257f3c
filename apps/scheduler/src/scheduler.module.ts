import { Inject, Injectable, Module } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';

import { ServiceEndpoints } from '@baton/service-kit';
import { BATON_STREAMS } from '@baton/transport-jetstream';

import {
  scheduleRepositoryProvider,
  storageProvider,
  timerRepositoryProvider,
} from './database/scheduler.storage';
import { DefinitionSchedules } from './schedules/definition-schedules';
import { ExecutionFinishedHandler } from './schedules/execution-finished.handler';
import { SchedulesController } from './schedules/schedules.controller';
import { SchedulesService } from './schedules/schedules.service';
import { TimerRequestsHandler } from './timers/timer-requests.handler';
import { TimersController } from './timers/timers.controller';
import { TimersService } from './timers/timers.service';
import { WorkersController } from './workers/workers.controller';
import { WorkersService } from './workers/workers.service';

/**
 * Streams the scheduler uses: start commands of scheduled workflows (`BATON_ORCH`), fired timers (`EVENTS`,
 * `BATON_ORCH`), timer requests (`BATON_SCHED`), completion notifications (`BATON_EVENTS`, for overlap
 * `skip`) and dead letters. Ensured at start and checked by readiness.
 */
export const SCHEDULER_STREAMS = [
  BATON_STREAMS.ORCH,
  BATON_STREAMS.EVENTS,
  BATON_STREAMS.SCHED,
  BATON_STREAMS.NOTIFY,
  BATON_STREAMS.DLQ,
];

/** Names of the request-reply mirrors, on `baton.api.scheduler.<name>`. */
export const SCHEDULER_ENDPOINTS = {
  TIMERS_CREATE: 'timers.create',
  TIMERS_CANCEL: 'timers.cancel',
  TIMERS_GET: 'timers.get',
  SCHEDULES_CREATE: 'schedules.create',
  SCHEDULES_LIST: 'schedules.list',
  SCHEDULES_GET: 'schedules.get',
  SCHEDULES_DELETE: 'schedules.delete',
  SCHEDULES_PAUSE: 'schedules.pause',
  SCHEDULES_RESUME: 'schedules.resume',
  WORKERS_LIST: 'workers.list',
  QUEUES_LIST: 'queues.list',
} as const;

/** Registers the request-reply mirrors of the HTTP routes. */
@Injectable()
export class SchedulerEndpoints implements OnModuleInit {
  constructor(
    @Inject(ServiceEndpoints) private readonly endpoints: ServiceEndpoints,
    @Inject(TimersService) private readonly timers: TimersService,
    @Inject(SchedulesService) private readonly schedules: SchedulesService,
    @Inject(WorkersService) private readonly workers: WorkersService,
  ) {}

  onModuleInit(): void {
    const { endpoints, timers, schedules, workers } = this;
    endpoints.add(SCHEDULER_ENDPOINTS.TIMERS_CREATE, (data) => timers.create(data));
    endpoints.add(SCHEDULER_ENDPOINTS.TIMERS_CANCEL, (data) => timers.cancel(data));
    endpoints.add(SCHEDULER_ENDPOINTS.TIMERS_GET, (data) => timers.get(data));
    endpoints.add(SCHEDULER_ENDPOINTS.SCHEDULES_CREATE, (data) => schedules.create(data));
    endpoints.add(SCHEDULER_ENDPOINTS.SCHEDULES_LIST, (data) => schedules.list(data ?? {}));
    endpoints.add(SCHEDULER_ENDPOINTS.SCHEDULES_GET, (data) => schedules.get(data));
    endpoints.add(SCHEDULER_ENDPOINTS.SCHEDULES_DELETE, (data) => schedules.delete(data));
    endpoints.add(SCHEDULER_ENDPOINTS.SCHEDULES_PAUSE, (data) => schedules.pause(data));
    endpoints.add(SCHEDULER_ENDPOINTS.SCHEDULES_RESUME, (data) => schedules.resume(data));
    endpoints.add(SCHEDULER_ENDPOINTS.WORKERS_LIST, () => workers.listWorkers());
    endpoints.add(SCHEDULER_ENDPOINTS.QUEUES_LIST, () => workers.listQueues());
  }
}

/** The scheduler: cron schedules, durable timers, the worker registry and task queues, over HTTP and NATS. */
@Module({
  controllers: [
    TimersController,
    SchedulesController,
    WorkersController,
    TimerRequestsHandler,
    ExecutionFinishedHandler,
  ],
  providers: [
    storageProvider,
    timerRepositoryProvider,
    scheduleRepositoryProvider,
    TimersService,
    SchedulesService,
    DefinitionSchedules,
    WorkersService,
    SchedulerEndpoints,
  ],
})
export class SchedulerModule {}
