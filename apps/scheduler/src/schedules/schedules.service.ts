import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';

import {
  BatonError,
  ErrorCode,
  PROTOCOL_VERSION,
  type ScheduleView,
  type StartExecutionCommand,
  Subjects,
  scheduleCause,
} from '@baton/contracts';
import { ScheduleRepository, ScheduleSource } from '@baton/persistence';
import { BATON_CONFIG, MetricsService, NATS_CONNECTION } from '@baton/service-kit';
import { JetStreamPublisher } from '@baton/transport-jetstream';

import type { SchedulerConfig } from '../config/scheduler.config';
import { type Clock, systemClock } from '../due-loop';
import { nextFireAfter } from './schedule-cron';
import {
  parseScheduleId,
  parseScheduleListQuery,
  parseScheduleRequest,
  toScheduleView,
} from './schedule-request';
import { type ScheduleFire, ScheduleFiring } from './schedule.firing';

/** The start command of one fire (`cause: cron:<scheduleId>`, requested at the fire time). */
export function startCommandOf(fire: ScheduleFire): StartExecutionCommand {
  const { schedule } = fire;
  return {
    protocol: PROTOCOL_VERSION,
    kind: 'start',
    executionId: fire.executionId,
    workflowId: schedule.workflowId,
    ...(schedule.workflowVersion !== null ? { version: schedule.workflowVersion } : {}),
    input: schedule.input ?? null,
    cause: scheduleCause(schedule.id),
    requestedAt: fire.fireAt.toISOString(),
  };
}

/**
 * Cron schedules: create / list / get / delete / pause / resume (shared by HTTP and NATS), and the firing
 * loop, started once the application is up and stopped before the NATS connection drains.
 */
@Injectable()
export class SchedulesService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Schedules');
  private readonly firing: ScheduleFiring;
  private readonly clock: Clock = systemClock;

  constructor(
    @Inject(ScheduleRepository) private readonly repository: ScheduleRepository,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(BATON_CONFIG) config: SchedulerConfig,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    const publisher = new JetStreamPublisher(nc);
    const fires = metrics.counter('schedule_fires_total', 'Fires of cron schedules, by outcome', ['outcome']);
    const lag = metrics.histogram(
      'schedule_fire_lag_seconds',
      'Time from a fire time of a cron schedule to its start command being published',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
    );
    this.firing = new ScheduleFiring(
      repository,
      async (fire) => {
        await publisher.publish(Subjects.start(fire.schedule.workflowId), startCommandOf(fire), {
          msgId: `start:${fire.executionId}`,
        });
      },
      this.clock,
      {
        batchSize: config.BATON_SCHEDULE_BATCH_SIZE,
        pollIntervalMs: config.BATON_SCHEDULE_POLL_INTERVAL_MS,
        misfireGraceMs: config.BATON_SCHEDULE_MISFIRE_GRACE_MS,
        onError: (err) => this.logger.warn({ err }, 'firing schedules failed; retrying'),
        onFired: ({ started, skipped, lagsMs }) => {
          if (started.length > 0) fires.inc({ outcome: 'started' }, started.length);
          if (skipped > 0) fires.inc({ outcome: 'skipped' }, skipped);
          for (const ms of lagsMs) lag.observe(ms / 1000);
        },
      },
    );
  }

  onApplicationBootstrap(): void {
    this.firing.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.firing.stop();
  }

  /**
   * `POST /v1/schedules` / `schedules.create`. Idempotent by `id`: repeating an identical request returns the
   * stored schedule; a different one with the same id is a 409 CONFLICT.
   */
  async create(body: unknown): Promise<ScheduleView> {
    const schedule = parseScheduleRequest(body, this.clock.now());
    const { schedule: stored, created } = await this.repository.create(schedule);
    if (created) {
      this.firing.wake(stored.paused ? null : stored.nextFireAt);
      return toScheduleView(stored);
    }
    const same =
      stored.source === ScheduleSource.API &&
      stored.workflowId === schedule.workflowId &&
      stored.workflowVersion === schedule.workflowVersion &&
      stored.expression === schedule.expression &&
      stored.timezone === schedule.timezone &&
      stored.overlap === schedule.overlap &&
      JSON.stringify(stored.input) === JSON.stringify(schedule.input);
    if (!same) {
      throw new BatonError(ErrorCode.CONFLICT, `schedule ${schedule.id} exists with different settings`, {
        retryable: false,
        details: [{ path: '/id', message: 'already used by another schedule', rule: 'conflict' }],
      });
    }
    return toScheduleView(stored);
  }

  /** `GET /v1/schedules` / `schedules.list`: in id order, optionally of one workflow. */
  async list(query: unknown): Promise<{ items: ScheduleView[] }> {
    const rows = await this.repository.list(parseScheduleListQuery(query));
    return { items: rows.map(toScheduleView) };
  }

  /** `GET /v1/schedules/:id` / `schedules.get`; NOT_FOUND when unknown. */
  async get(params: unknown): Promise<ScheduleView> {
    const id = parseScheduleId(params);
    const schedule = await this.repository.get(id);
    if (schedule === null) throw notFound(id);
    return toScheduleView(schedule);
  }

  /**
   * `DELETE /v1/schedules/:id` / `schedules.delete`; NOT_FOUND when unknown. A schedule of a workflow
   * definition is a 409: it follows the definition (delete the workflow, or pause the schedule).
   */
  async delete(params: unknown): Promise<ScheduleView> {
    const id = parseScheduleId(params);
    const existing = await this.repository.get(id);
    if (existing === null) throw notFound(id);
    if (existing.source === ScheduleSource.DEFINITION) {
      throw new BatonError(
        ErrorCode.CONFLICT,
        `schedule ${id} comes from a cron trigger of workflow ${existing.workflowId}; delete the workflow or pause the schedule`,
        { retryable: false },
      );
    }
    const deleted = await this.repository.delete(id);
    if (deleted === null) throw notFound(id);
    return toScheduleView(deleted);
  }

  /** `POST /v1/schedules/:id/pause` / `schedules.pause`: no fires until resumed. */
  async pause(params: unknown): Promise<ScheduleView> {
    const id = parseScheduleId(params);
    const paused = await this.repository.pause(id, new Date(this.clock.now()));
    if (paused === null) throw notFound(id);
    return toScheduleView(paused);
  }

  /** `POST /v1/schedules/:id/resume` / `schedules.resume`: fires again from the next time after now. */
  async resume(params: unknown): Promise<ScheduleView> {
    const id = parseScheduleId(params);
    const now = new Date(this.clock.now());
    const resumed = await this.repository.resume(id, now, (s) =>
      nextFireAfter(s.expression, s.timezone, now),
    );
    if (resumed === null) throw notFound(id);
    this.firing.wake(resumed.paused ? null : resumed.nextFireAt);
    return toScheduleView(resumed);
  }
}

function notFound(id: string): BatonError {
  return new BatonError(ErrorCode.NOT_FOUND, `schedule ${id} not found`, { retryable: false });
}
