import { z } from 'zod';

import { databaseServiceEnvSchema } from '@baton/service-kit';

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Telemetry settings: the common ones and `DATABASE_URL` (CONTRACT §1), plus its tuning knobs. */
export const telemetryEnvSchema = databaseServiceEnvSchema.safeExtend({
  /** Largest number of pooled PostgreSQL connections. */
  BATON_DB_POOL_SIZE: int(2, 500, 10),
  /** How long start-up waits for PostgreSQL to accept connections before giving up. */
  BATON_DB_STARTUP_TIMEOUT_MS: int(0, 600_000, 30_000),
  /** Most history batches counted in one transaction (group commit). */
  BATON_ANALYTICS_GROUP_SIZE: int(1, 1000, 200),
  /** How long the first batch of a group waits for others, in ms. */
  BATON_ANALYTICS_GROUP_DELAY_MS: int(0, 1000, 10),
  /** How long `GET /v1/services` collects `$SRV` replies, in ms. */
  BATON_DISCOVERY_TIMEOUT_MS: int(50, 10_000, 500),
});

export type TelemetryConfig = z.output<typeof telemetryEnvSchema>;
