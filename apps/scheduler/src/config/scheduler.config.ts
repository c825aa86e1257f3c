import { z } from 'zod';

import { databaseServiceEnvSchema } from '@baton/service-kit';

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Scheduler settings: the common ones and `DATABASE_URL` (CONTRACT §1), plus its tuning knobs. */
export const schedulerEnvSchema = databaseServiceEnvSchema.safeExtend({
  /** Largest number of pooled PostgreSQL connections. */
  BATON_DB_POOL_SIZE: int(2, 500, 10),
  /** How long start-up waits for PostgreSQL to accept connections before giving up. */
  BATON_DB_STARTUP_TIMEOUT_MS: int(0, 600_000, 30_000),
  /** Longest sleep of the timer loop: bounds how late timers created by other instances are noticed. */
  BATON_TIMER_POLL_INTERVAL_MS: int(10, 60_000, 1_000),
  /** Most timers claimed and published in one transaction. */
  BATON_TIMER_BATCH_SIZE: int(1, 10_000, 256),
  /** Longest sleep of the schedule loop: bounds how late schedules created by other instances are noticed. */
  BATON_SCHEDULE_POLL_INTERVAL_MS: int(10, 60_000, 1_000),
  /** Most schedules claimed and fired in one transaction. */
  BATON_SCHEDULE_BATCH_SIZE: int(1, 10_000, 100),
  /**
   * A fire at most this late still fires for its own time (each missed time of a short gap starts its
   * execution); a later one is downtime: one catch-up fire for the latest missed time.
   */
  BATON_SCHEDULE_MISFIRE_GRACE_MS: int(0, 3_600_000, 5_000),
});

export type SchedulerConfig = z.output<typeof schedulerEnvSchema>;
