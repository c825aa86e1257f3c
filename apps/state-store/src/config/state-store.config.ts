import { z } from 'zod';

import { commonEnvSchema, databaseEnvSchema } from '@baton/service-kit';

/**
 * Default {@link stateStoreEnvSchema} `BATON_HISTORY_LINGER_MS`: history is taken in batches (consumer
 * `lingerMs`). Each delivery, group and write of acks costs CPU on the hosts the execution path runs on;
 * when executions are few, waiting this long lets one batch carry the transitions of several of them
 * (bench/README, "Projections' CPU").
 */
export const HISTORY_LINGER_MS = 100;
/** Defaults of `BATON_HISTORY_GROUP_SIZE` and `BATON_HISTORY_GROUP_CONCURRENCY` (the consumer is sized from them). */
export const HISTORY_GROUP_SIZE = 100;
export const HISTORY_GROUP_CONCURRENCY = 2;

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** State-store settings: the common ones and `DATABASE_URL` (CONTRACT §1), plus its tuning knobs. */
export const stateStoreEnvSchema = commonEnvSchema.safeExtend({
  ...databaseEnvSchema.shape,
  /** Largest number of pooled PostgreSQL connections. */
  BATON_DB_POOL_SIZE: int(2, 500, 10),
  /** How long start-up waits for PostgreSQL to accept connections before giving up. */
  BATON_DB_STARTUP_TIMEOUT_MS: int(0, 600_000, 30_000),
  /** Most history batches written in one transaction (group commit). */
  BATON_HISTORY_GROUP_SIZE: int(1, 1000, HISTORY_GROUP_SIZE),
  /** How long the first batch of a group waits for others, in ms. */
  BATON_HISTORY_GROUP_DELAY_MS: int(0, 1000, 10),
  /**
   * After a delivery batch that emptied the backlog, how long the next pull waits, in ms: with the group
   * delay, how far the projection may lag behind the executions when they are few. No wait while a
   * backlog remains.
   */
  BATON_HISTORY_LINGER_MS: int(0, 5000, HISTORY_LINGER_MS),
  /** Group transactions running at once. */
  BATON_HISTORY_GROUP_CONCURRENCY: int(1, 64, HISTORY_GROUP_CONCURRENCY),
});

export type StateStoreConfig = z.output<typeof stateStoreEnvSchema>;
