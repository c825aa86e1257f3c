/** Where time comes from (injected so that unit tests never sleep). */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Tuning shared by the firing loops. */
export interface DueLoopOptions {
  /** Longest sleep: work stored by other instances is noticed within this bound. */
  pollIntervalMs: number;
  /** Sleep after a failed round (database or NATS unavailable); default `min(pollIntervalMs, 1000)`. */
  retryDelayMs?: number;
  /** Reports a failed round; the loop goes on. */
  onError?: (err: unknown) => void;
}

/**
 * The loop of timers and schedules: a round fires everything due ({@link fireDue}), then the loop sleeps
 * until the next due time ({@link nextDueAt}), at most `pollIntervalMs`, and is woken early by
 * {@link wakeFor} when something due sooner is stored in this process. A wake-up during a round makes
 * another round run before sleeping.
 */
export abstract class DueLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  /** When the current sleep ends (ms since epoch); -Infinity while a round runs. */
  private wakeAt = Number.NEGATIVE_INFINITY;
  /** A wake-up came during a round: run another round before sleeping. */
  private rerun = false;
  private interrupt: (() => void) | undefined;

  protected constructor(
    protected readonly clock: Clock,
    private readonly loopOptions: DueLoopOptions,
  ) {}

  /** Fires everything due now. */
  abstract fireDue(): Promise<unknown>;

  /** The earliest due time stored, or null when nothing is pending. */
  protected abstract nextDueAt(): Promise<Date | null>;

  /** How long to sleep from now: until the next due time, within `0..pollIntervalMs`. */
  async sleepMs(): Promise<number> {
    const next = await this.nextDueAt();
    if (next === null) return this.loopOptions.pollIntervalMs;
    return Math.max(0, Math.min(this.loopOptions.pollIntervalMs, next.getTime() - this.clock.now()));
  }

  /** One round: fire what is due, then say how long to sleep. */
  async tick(): Promise<number> {
    await this.fireDue();
    return this.sleepMs();
  }

  /** Something due at `at` was stored here: wake the loop if it would sleep past it. */
  protected wakeFor(at: Date): void {
    if (!this.running) return;
    if (this.wakeAt === Number.NEGATIVE_INFINITY) {
      this.rerun = true;
    } else if (at.getTime() < this.wakeAt) {
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
        this.loopOptions.onError?.(err);
        delay = this.loopOptions.retryDelayMs ?? Math.min(this.loopOptions.pollIntervalMs, 1_000);
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
      this.interrupt = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.interrupt = undefined;
    });
  }
}
