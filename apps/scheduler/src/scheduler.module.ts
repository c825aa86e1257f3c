import { Module } from '@nestjs/common';

import { postgresReadinessProvider } from '@baton/service-kit';
import { BATON_STREAMS } from '@baton/transport-jetstream';

/**
 * Streams the scheduler publishes to: start commands of scheduled workflows (`BATON_ORCH`) and fired timers
 * (`EVENTS`). Ensured at start and checked by readiness.
 */
export const SCHEDULER_STREAMS = [BATON_STREAMS.ORCH, BATON_STREAMS.EVENTS];

/** The scheduler's own providers; the common surface comes from service-kit's core module. */
@Module({ providers: [postgresReadinessProvider('database')] })
export class SchedulerModule {}
