import { z } from 'zod';

import { databaseServiceEnvSchema } from '@baton/service-kit';

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Rule-engine settings: the common ones and `DATABASE_URL` (CONTRACT §1), plus its tuning knobs. */
export const ruleEngineEnvSchema = databaseServiceEnvSchema.safeExtend({
  /** Largest number of pooled PostgreSQL connections. */
  BATON_DB_POOL_SIZE: int(2, 500, 10),
  /** How long start-up waits for PostgreSQL to accept connections before giving up. */
  BATON_DB_STARTUP_TIMEOUT_MS: int(0, 600_000, 30_000),
  /** Longest a compiled category is kept without a change notification (bounds staleness if one is lost). */
  BATON_RULES_CACHE_TTL_MS: int(1_000, 86_400_000, 60_000),
});

export type RuleEngineConfig = z.output<typeof ruleEngineEnvSchema>;
