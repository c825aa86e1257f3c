import { Inject, Injectable, Module } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';

import { ServiceEndpoints } from '@baton/service-kit';
import { BATON_STREAMS } from '@baton/transport-jetstream';

import { storageProvider, timerRepositoryProvider } from './database/scheduler.storage';
import { TimerRequestsHandler } from './timers/timer-requests.handler';
import { TimersController } from './timers/timers.controller';
import { TimersService } from './timers/timers.service';
import { WorkersController } from './workers/workers.controller';
import { WorkersService } from './workers/workers.service';

/**
 * Streams the scheduler publishes to: start commands of scheduled workflows (`BATON_ORCH`) and fired timers
 * (`EVENTS`, `BATON_ORCH`). Ensured at start and checked by readiness.
 */
export const SCHEDULER_STREAMS = [
  BATON_STREAMS.ORCH,
  BATON_STREAMS.EVENTS,
  BATON_STREAMS.SCHED,
  BATON_STREAMS.DLQ,
];

/** Names of the request-reply mirrors, on `baton.api.scheduler.<name>`. */
export const SCHEDULER_ENDPOINTS = {
  TIMERS_CREATE: 'timers.create',
  TIMERS_CANCEL: 'timers.cancel',
  TIMERS_GET: 'timers.get',
  WORKERS_LIST: 'workers.list',
  QUEUES_LIST: 'queues.list',
} as const;

/** Registers the request-reply mirrors of the HTTP routes. */
@Injectable()
export class SchedulerEndpoints implements OnModuleInit {
  constructor(
    @Inject(ServiceEndpoints) private readonly endpoints: ServiceEndpoints,
    @Inject(TimersService) private readonly timers: TimersService,
    @Inject(WorkersService) private readonly workers: WorkersService,
  ) {}

  onModuleInit(): void {
    const { endpoints, timers, workers } = this;
    endpoints.add(SCHEDULER_ENDPOINTS.TIMERS_CREATE, (data) => timers.create(data));
    endpoints.add(SCHEDULER_ENDPOINTS.TIMERS_CANCEL, (data) => timers.cancel(data));
    endpoints.add(SCHEDULER_ENDPOINTS.TIMERS_GET, (data) => timers.get(data));
    endpoints.add(SCHEDULER_ENDPOINTS.WORKERS_LIST, () => workers.listWorkers());
    endpoints.add(SCHEDULER_ENDPOINTS.QUEUES_LIST, () => workers.listQueues());
  }
}

/** The scheduler: durable timers, the worker registry and task queues, over HTTP and NATS. */
@Module({
  controllers: [TimersController, WorkersController, TimerRequestsHandler],
  providers: [storageProvider, timerRepositoryProvider, TimersService, WorkersService, SchedulerEndpoints],
})
export class SchedulerModule {}
