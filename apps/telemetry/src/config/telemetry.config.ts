import { z } from 'zod';

import { databaseServiceEnvSchema } from '@baton/service-kit';

import { alertRulesEnv } from '../alerts/alert-rules';

/**
 * Default {@link telemetryEnvSchema} `BATON_ANALYTICS_LINGER_MS`: history is taken in batches (consumer
 * `lingerMs`). Each delivery, group and write of acks costs CPU on the hosts the execution path runs on;
 * when executions are few, waiting this long lets one batch carry the transitions of several of them
 * (bench/README, "Projections' CPU").
 */
export const ANALYTICS_LINGER_MS = 100;
/** Defaults of `BATON_ANALYTICS_GROUP_SIZE` and `BATON_ANALYTICS_GROUP_CONCURRENCY` (the consumer is sized from them). */
export const ANALYTICS_GROUP_SIZE = 200;
export const ANALYTICS_GROUP_CONCURRENCY = 2;

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Telemetry settings: the common ones and `DATABASE_URL` (CONTRACT §1), plus its tuning knobs. */
export const telemetryEnvSchema = databaseServiceEnvSchema.safeExtend({
  /** Largest number of pooled PostgreSQL connections. */
  BATON_DB_POOL_SIZE: int(2, 500, 10),
  /** How long start-up waits for PostgreSQL to accept connections before giving up. */
  BATON_DB_STARTUP_TIMEOUT_MS: int(0, 600_000, 30_000),
  /** Most history batches counted in one transaction (group commit). */
  BATON_ANALYTICS_GROUP_SIZE: int(1, 1000, ANALYTICS_GROUP_SIZE),
  /** How long the first batch of a group waits for others, in ms. */
  BATON_ANALYTICS_GROUP_DELAY_MS: int(0, 1000, 10),
  /**
   * After a delivery batch that emptied the backlog, how long the next pull waits, in ms: with the group
   * delay, how far the analytics may lag behind the executions when they are few. No wait while a backlog
   * remains.
   */
  BATON_ANALYTICS_LINGER_MS: int(0, 5000, ANALYTICS_LINGER_MS),
  /** Group statements running at once. */
  BATON_ANALYTICS_GROUP_CONCURRENCY: int(1, 64, ANALYTICS_GROUP_CONCURRENCY),
  /** How long `GET /v1/services` collects `$SRV` replies, in ms. */
  BATON_DISCOVERY_TIMEOUT_MS: int(50, 10_000, 500),
  /** Alert rules, a JSON array (ADR 0023); unset: the default rules; `[]`: no alerting. */
  BATON_ALERT_RULES: alertRulesEnv,
  /** How often the alert rules are evaluated, in ms (0: never). */
  BATON_ALERT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 100 && v <= 3_600_000), { message: 'must be 0 or 100..3600000' })
    .default(15_000),
});

export type TelemetryConfig = z.output<typeof telemetryEnvSchema>;
