import { scheduleExecutionId } from '@baton/contracts';
import { ScheduleOverlap } from '@baton/persistence';
import type { ScheduleAdvance, ScheduleRecord } from '@baton/persistence';

import { DueLoop } from '../due-loop';
import type { Clock, DueLoopOptions } from '../due-loop';
import { latestFireAtOrBefore, nextFireAfter } from './schedule-cron';

/** The storage the firing loop needs (ScheduleRepository in production, a fake in unit tests). */
export interface ScheduleStore {
  claimDue(
    now: Date,
    limit: number,
    fire: (schedules: ScheduleRecord[]) => Promise<ScheduleAdvance[]>,
  ): Promise<{ claimed: ScheduleRecord[]; advances: ScheduleAdvance[] }>;
  nextDueAt(): Promise<Date | null>;
}

/** One fire that starts an execution. */
export interface ScheduleFire {
  schedule: ScheduleRecord;
  /** The cron time this fire is for (the latest one due, after downtime). */
  fireAt: Date;
  /** Derived from `(schedule id, fireAt)`: the same on every instance and every retry. */
  executionId: string;
}

/** What a due schedule does now: its advance, and the fire to publish unless it is skipped. */
export interface FirePlan {
  advance: ScheduleAdvance;
  fire?: ScheduleFire;
}

/**
 * Plans the fire of a schedule that is due at `now` (`nextFireAt <= now`). A fire at most
 * `misfireGraceMs` late (an instance taking over from one that died, a busy loop) fires for its own time
 * and the next fire is the one after it, so every fire time of a short gap still starts its execution, in
 * order. A fire later than that (downtime, a paused loop) fires once, for the latest fire time at or before
 * `now`, and its next fire is the first time after `now`: the missed times are not caught up one by one.
 * With overlap `skip`, a schedule whose previous execution still runs skips this fire and only advances.
 */
export function planFire(schedule: ScheduleRecord, now: Date, misfireGraceMs = 0): FirePlan {
  const due = schedule.nextFireAt ?? now;
  let fireAt: Date;
  let nextFireAt: Date | null;
  if (now.getTime() - due.getTime() <= misfireGraceMs) {
    fireAt = due;
    nextFireAt = nextFireAfter(schedule.expression, schedule.timezone, due);
  } else {
    const latest = latestFireAtOrBefore(schedule.expression, schedule.timezone, now);
    fireAt = latest !== null && latest.getTime() >= due.getTime() ? latest : due;
    nextFireAt = nextFireAfter(schedule.expression, schedule.timezone, now);
  }
  if (schedule.overlap === ScheduleOverlap.SKIP && schedule.runningExecutionId !== null) {
    return { advance: { id: schedule.id, nextFireAt, firedAt: null, executionId: null, track: false } };
  }
  const executionId = scheduleExecutionId(schedule.id, fireAt);
  return {
    advance: {
      id: schedule.id,
      nextFireAt,
      firedAt: fireAt,
      executionId,
      track: schedule.overlap === ScheduleOverlap.SKIP,
    },
    fire: { schedule, fireAt, executionId },
  };
}

/** One claimed batch, as reported to {@link ScheduleFiringOptions.onFired}. */
export interface FiredBatch {
  started: ScheduleFire[];
  /** Fires skipped because the previous execution still ran (overlap `skip`). */
  skipped: number;
  /** Per started fire: when it was published minus its fire time, in ms. */
  lagsMs: number[];
}

/** Tuning of {@link ScheduleFiring}. */
export interface ScheduleFiringOptions extends DueLoopOptions {
  /** Most schedules per claim transaction. */
  batchSize: number;
  /** A fire at most this late fires for its own time; a later one collapses into one catch-up fire. */
  misfireGraceMs?: number;
  onFired?: (batch: FiredBatch) => void;
}

/**
 * Fires due schedules: claims them in due order (`FOR UPDATE SKIP LOCKED`), publishes a start command for
 * each fire (the caller's `publish` uses `Nats-Msg-Id: start:<executionId>`), advances them and commits,
 * batch after batch until none is due; then sleeps until the next fire, at most `pollIntervalMs`, woken early
 * by {@link wake} when a schedule firing sooner is created or resumed in this process.
 */
export class ScheduleFiring extends DueLoop {
  constructor(
    private readonly store: ScheduleStore,
    private readonly publish: (fire: ScheduleFire) => Promise<void>,
    clock: Clock,
    private readonly opts: ScheduleFiringOptions,
  ) {
    super(clock, opts);
  }

  /** Fires every schedule due now, batch by batch. Returns the fires started. */
  async fireDue(): Promise<ScheduleFire[]> {
    const all: ScheduleFire[] = [];
    for (;;) {
      const now = new Date(this.clock.now());
      let started: ScheduleFire[] = [];
      const { claimed, advances } = await this.store.claimDue(now, this.opts.batchSize, async (schedules) => {
        const plans = schedules.map((s) => planFire(s, now, this.opts.misfireGraceMs ?? 0));
        started = plans.flatMap((p) => (p.fire ? [p.fire] : []));
        await Promise.all(started.map((f) => this.publish(f)));
        return plans.map((p) => p.advance);
      });
      if (claimed.length > 0) {
        this.opts.onFired?.({
          started,
          skipped: advances.length - started.length,
          lagsMs: started.map((f) => now.getTime() - f.fireAt.getTime()),
        });
      }
      all.push(...started);
      if (claimed.length < this.opts.batchSize) return all;
    }
  }

  /** A schedule next firing at `at` was created or resumed here: wake the loop if it would sleep past it. */
  wake(at: Date | null): void {
    if (at !== null) this.wakeFor(at);
  }

  protected nextDueAt(): Promise<Date | null> {
    return this.store.nextDueAt();
  }
}
