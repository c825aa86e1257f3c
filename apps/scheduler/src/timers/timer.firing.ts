import type { TimerRecord } from '@baton/persistence';

/** The storage the firing loop needs (TimerRepository in production, a fake in unit tests). */
export interface TimerStore {
  claimDue(now: Date, limit: number, fire: (timers: TimerRecord[]) => Promise<void>): Promise<TimerRecord[]>;
  nextDueAt(): Promise<Date | null>;
}

/** Where time comes from (injected so that unit tests never sleep). */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Tuning of {@link TimerFiring}. */
export interface TimerFiringOptions {
  /** Most timers per claim transaction. */
  batchSize: number;
  /** Longest sleep: timers inserted by other instances are noticed within this bound. */
  pollIntervalMs: number;
  /** Sleep after a failed round (database or NATS unavailable); default `min(pollIntervalMs, 1000)`. */
  retryDelayMs?: number;
  /** Reports a failed round; the loop goes on. */
  onError?: (err: unknown) => void;
  /** Reports each fired batch with its fire lag in ms (firing time minus due time) per timer. */
  onFired?: (lagsMs: number[]) => void;
}

/**
 * Fires due timers: claims them in due order (`FOR UPDATE SKIP LOCKED`), publishes each (the caller's
 * `publish` uses `Nats-Msg-Id: timer:<id>`), marks them fired and commits, batch after batch until none is
 * due; then sleeps until the next due time, at most `pollIntervalMs`, woken early by {@link wake} when a
 * timer due sooner is created in this process.
 */
export class TimerFiring {
  private running = false;
  private loop: Promise<void> | undefined;
  /** When the current sleep ends (ms since epoch); -Infinity while a round runs. */
  private wakeAt = Number.NEGATIVE_INFINITY;
  /** A wake-up came during a round: run another round before sleeping. */
  private rerun = false;
  private interrupt: (() => void) | undefined;

  constructor(
    private readonly store: TimerStore,
    private readonly publish: (timer: TimerRecord) => Promise<void>,
    private readonly clock: Clock,
    private readonly opts: TimerFiringOptions,
  ) {}

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

  /** How long to sleep from now: until the next due time, within `0..pollIntervalMs`. */
  async sleepMs(): Promise<number> {
    const next = await this.store.nextDueAt();
    if (next === null) return this.opts.pollIntervalMs;
    return Math.max(0, Math.min(this.opts.pollIntervalMs, next.getTime() - this.clock.now()));
  }

  /** One round: fire what is due, then say how long to sleep. */
  async tick(): Promise<number> {
    await this.fireDue();
    return this.sleepMs();
  }

  /** A timer due at `dueAt` was created here: wake the loop if it would sleep past that. */
  wake(dueAt: Date): void {
    if (!this.running) return;
    if (this.wakeAt === Number.NEGATIVE_INFINITY) {
      this.rerun = true;
    } else if (dueAt.getTime() < this.wakeAt) {
      this.interrupt?.();
    }
  }

  /** Starts the loop (once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the loop after the current round (a claimed batch is published and committed first). */
  async stop(): Promise<void> {
    this.running = false;
    this.interrupt?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.wakeAt = Number.NEGATIVE_INFINITY;
      this.rerun = false;
      let delay: number;
      try {
        delay = await this.tick();
      } catch (err) {
        this.opts.onError?.(err);
        delay = this.opts.retryDelayMs ?? Math.min(this.opts.pollIntervalMs, 1_000);
      }
      if (!this.running) return;
      if (this.rerun || delay === 0) continue;
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    this.wakeAt = this.clock.now() + ms;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const interrupt = () => done();
      this.interrupt = interrupt;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.interrupt = undefined;
    });
  }
}
