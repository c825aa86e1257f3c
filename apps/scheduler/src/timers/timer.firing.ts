import type { TimerRecord } from '@baton/persistence';

import { DueLoop } from '../due-loop';
import type { Clock, DueLoopOptions } from '../due-loop';

/** The storage the firing loop needs (TimerRepository in production, a fake in unit tests). */
export interface TimerStore {
  claimDue(now: Date, limit: number, fire: (timers: TimerRecord[]) => Promise<void>): Promise<TimerRecord[]>;
  nextDueAt(): Promise<Date | null>;
}

/** Tuning of {@link TimerFiring}. */
export interface TimerFiringOptions extends DueLoopOptions {
  /** Most timers per claim transaction. */
  batchSize: number;
  /** Reports each fired batch with its fire lag in ms (firing time minus due time) per timer. */
  onFired?: (lagsMs: number[]) => void;
}

/**
 * Fires due timers: claims them in due order (`FOR UPDATE SKIP LOCKED`), publishes each (the caller's
 * `publish` uses `Nats-Msg-Id: timer:<id>`), marks them fired and commits, batch after batch until none is
 * due; then sleeps until the next due time, at most `pollIntervalMs`, woken early by {@link wake} when a
 * timer due sooner is created in this process.
 */
export class TimerFiring extends DueLoop {
  constructor(
    private readonly store: TimerStore,
    private readonly publish: (timer: TimerRecord) => Promise<void>,
    clock: Clock,
    private readonly opts: TimerFiringOptions,
  ) {
    super(clock, opts);
  }

  /** Fires every timer due now, batch by batch in due order. Returns how many fired. */
  async fireDue(): Promise<number> {
    let fired = 0;
    for (;;) {
      const now = new Date(this.clock.now());
      const batch = await this.store.claimDue(now, this.opts.batchSize, async (timers) => {
        await Promise.all(timers.map((t) => this.publish(t)));
      });
      if (batch.length > 0) this.opts.onFired?.(batch.map((t) => now.getTime() - t.dueAt.getTime()));
      fired += batch.length;
      if (batch.length < this.opts.batchSize) return fired;
    }
  }

  /** A timer due at `dueAt` was created here: wake the loop if it would sleep past that. */
  wake(dueAt: Date): void {
    this.wakeFor(dueAt);
  }

  protected nextDueAt(): Promise<Date | null> {
    return this.store.nextDueAt();
  }
}
