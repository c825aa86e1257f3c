import { z } from 'zod';

import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_STATE_BYTES } from '@baton/contracts';
import { commonEnvSchema } from '@baton/service-kit';

import { circuitEnvShape } from '../circuits/circuit.config';

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Orchestrator settings: the common ones (CONTRACT §1) plus its own tuning knobs. */
export const orchestratorEnvSchema = commonEnvSchema.extend({
  ...circuitEnvShape,
  /** Messages of `BATON_ORCH` handled at once by one instance. */
  BATON_ORCH_CONCURRENCY: int(1, 4096, 256),
  /** Events of `EVENTS` handled at once by one instance. */
  BATON_TRIGGER_CONCURRENCY: int(1, 1024, 64),
  BATON_EXPR_TIMEOUT_MS: int(10, 60_000, 500),
  BATON_EXPR_MEMORY_MB: int(16, 4096, 64),
  BATON_EXPR_POOL_SIZE: int(1, 64, 1),
  BATON_MAX_STATE_BYTES: int(16_384, 8 * 1024 * 1024, DEFAULT_MAX_STATE_BYTES),
  BATON_MAX_OUTPUT_BYTES: int(1, 4 * 1024 * 1024, DEFAULT_MAX_OUTPUT_BYTES),
  BATON_EXECUTION_CACHE_SIZE: int(0, 10_000_000, 20_000),
  /** Period of the re-drive sweep (ADR 0007); 0 turns it off. */
  BATON_REDRIVE_INTERVAL_MS: int(0, 86_400_000, 60_000),
  /** A non-terminal execution untouched this long has its outbox re-published. */
  BATON_REDRIVE_AFTER_MS: int(1_000, 86_400_000, 300_000),
  /** Attempts of steps that name no retry policy and match no error policy (1: no retry). */
  BATON_DEFAULT_MAX_ATTEMPTS: int(1, 100, 1),
  /** First retry delay of the default policy. */
  BATON_DEFAULT_RETRY_INITIAL_MS: int(0, 86_400_000, 1_000),
  /** Longest retry delay of the default policy. */
  BATON_DEFAULT_RETRY_MAX_MS: int(0, 86_400_000, 60_000),
  /**
   * Fault points for crash tests, e.g. `after-state-write:0.05` (exit the process at that point with the
   * given probability). Never set in production.
   */
  BATON_FAULTS: z
    .string()
    .regex(
      /^$|^[a-z-]+:(0(\.\d+)?|1(\.0+)?)(,[a-z-]+:(0(\.\d+)?|1(\.0+)?))*$/,
      'must be point:probability[,point:probability]',
    )
    .default(''),
});

export type OrchestratorConfig = z.infer<typeof orchestratorEnvSchema>;
