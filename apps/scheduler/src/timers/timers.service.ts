import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';

import { BatonError, ErrorCode, type TimerView, timerMsgId } from '@baton/contracts';
import { TimerCancelOutcome, TimerRepository } from '@baton/persistence';
import type { TimerRecord } from '@baton/persistence';
import { BATON_CONFIG, MetricsService, NATS_CONNECTION } from '@baton/service-kit';
import { JetStreamPublisher } from '@baton/transport-jetstream';

import type { SchedulerConfig } from '../config/scheduler.config';
import { parseTimerId, parseTimerRequest, toTimerView } from './timer-request';
import { systemClock } from '../due-loop';
import { TimerFiring } from './timer.firing';

const encoder = new TextEncoder();

/**
 * Durable timers: create / cancel / get (shared by HTTP and NATS), and the firing loop, started once the
 * application is up and stopped before the NATS connection drains.
 */
@Injectable()
export class TimersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Timers');
  private readonly firing: TimerFiring;

  constructor(
    @Inject(TimerRepository) private readonly repository: TimerRepository,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(BATON_CONFIG) config: SchedulerConfig,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    const publisher = new JetStreamPublisher(nc);
    const fired = metrics.counter('timers_fired_total', 'Timers fired');
    const lag = metrics.histogram(
      'timer_fire_lag_seconds',
      'Time from a timer being due to its message being published',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    );
    this.firing = new TimerFiring(
      repository,
      async (t: TimerRecord) => {
        await publisher.publishRaw(t.subject, encoder.encode(JSON.stringify(t.payload ?? null)), {
          msgId: timerMsgId(t.id),
          headers: t.headers,
          destinationTemplate: 'timer',
        });
      },
      systemClock,
      {
        batchSize: config.BATON_TIMER_BATCH_SIZE,
        pollIntervalMs: config.BATON_TIMER_POLL_INTERVAL_MS,
        onError: (err) => this.logger.warn({ err }, 'firing timers failed; retrying'),
        onFired: (lagsMs) => {
          fired.inc(lagsMs.length);
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

  /** `POST /v1/timers` / `timers.create`: idempotent by `id` (the stored timer is returned for a repeat). */
  async create(body: unknown): Promise<{ id: string; dueAt: string }> {
    const timer = parseTimerRequest(body, systemClock.now());
    const { timer: stored, created } = await this.repository.create(timer);
    if (created) this.firing.wake(stored.dueAt);
    return { id: stored.id, dueAt: stored.dueAt.toISOString() };
  }

  /**
   * A `TimerSetRequest` from the orchestrator (`{ protocol, id, dueAt, subject, payload, headers }`):
   * created once by id; a due time in the past fires at once.
   */
  async createFromRequest(body: unknown): Promise<void> {
    const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const { protocol: _protocol, dueAt, ...rest } = request;
    await this.create({ ...rest, ...(dueAt !== undefined ? { at: dueAt } : {}) });
  }

  /** A `TimerCancelRequest` from the orchestrator: cancels a pending timer; unknown or fired ones are fine. */
  async cancelFromRequest(body: unknown): Promise<void> {
    const id = parseTimerId({ id: (body as { id?: unknown } | null)?.id });
    await this.repository.cancel(id, new Date(systemClock.now()));
  }

  /** `GET /v1/timers/:id` / `timers.get`; NOT_FOUND when unknown. */
  async get(params: unknown): Promise<TimerView> {
    const id = parseTimerId(params);
    const timer = await this.repository.get(id);
    if (timer === null) throw notFound(id);
    return toTimerView(timer);
  }

  /** `DELETE /v1/timers/:id` / `timers.cancel`; NOT_FOUND when unknown, CONFLICT when already fired. */
  async cancel(params: unknown): Promise<TimerView> {
    const id = parseTimerId(params);
    const { outcome, timer } = await this.repository.cancel(id, new Date(systemClock.now()));
    if (outcome === TimerCancelOutcome.NOT_FOUND || timer === null) throw notFound(id);
    if (outcome === TimerCancelOutcome.ALREADY_FIRED) {
      throw new BatonError(
        ErrorCode.CONFLICT,
        `timer ${id} already fired at ${timer.firedAt?.toISOString()}`,
        {
          retryable: false,
        },
      );
    }
    return toTimerView(timer);
  }
}

function notFound(id: string): BatonError {
  return new BatonError(ErrorCode.NOT_FOUND, `timer ${id} not found`, { retryable: false });
}
