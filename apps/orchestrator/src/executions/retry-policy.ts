import type { ErrorInfo, RetryPolicy } from '@baton/contracts';

/** A retry policy with every field decided. */
export type EffectiveRetryPolicy = Required<RetryPolicy>;

/** One attempt, no retry: what a step gets when neither it, an error policy nor the configuration says more. */
export const NO_RETRY: EffectiveRetryPolicy = Object.freeze({
  maxAttempts: 1,
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maxIntervalMs: 60_000,
  jitter: true,
  nonRetryableErrors: [],
});

/** Compensations retry unless told otherwise: a failed compensation needs an operator. */
export const DEFAULT_COMPENSATION_RETRY: EffectiveRetryPolicy = Object.freeze({
  maxAttempts: 3,
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maxIntervalMs: 30_000,
  jitter: true,
  nonRetryableErrors: [],
});

/** `policy` completed field by field from `base`. */
export function effectivePolicy(
  policy: RetryPolicy | undefined,
  base: EffectiveRetryPolicy,
): EffectiveRetryPolicy {
  return {
    maxAttempts: policy?.maxAttempts ?? base.maxAttempts,
    initialIntervalMs: policy?.initialIntervalMs ?? base.initialIntervalMs,
    backoffCoefficient: policy?.backoffCoefficient ?? base.backoffCoefficient,
    maxIntervalMs: policy?.maxIntervalMs ?? base.maxIntervalMs,
    jitter: policy?.jitter ?? base.jitter,
    nonRetryableErrors: policy?.nonRetryableErrors ?? base.nonRetryableErrors,
  };
}

/** Whether a failure of attempt `attempt` (from 1) may be retried under `policy`. */
export function isRetryable(policy: EffectiveRetryPolicy, attempt: number, error: ErrorInfo): boolean {
  if (error.nonRetryable) return false;
  if (policy.nonRetryableErrors.includes(error.type)) return false;
  return attempt < policy.maxAttempts;
}

/**
 * Delay before the attempt after `attempt` (from 1): `initialIntervalMs * backoffCoefficient^(attempt-1)`,
 * capped at `maxIntervalMs`; with jitter, a uniformly random value in [delay/2, delay] ("equal jitter"), so
 * retries of many executions failing together spread out while each still backs off.
 */
export function backoffDelayMs(
  policy: EffectiveRetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const raw = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, Math.max(0, attempt - 1));
  const capped = Math.min(policy.maxIntervalMs, raw);
  if (!policy.jitter) return Math.round(capped);
  return Math.round(capped / 2 + random() * (capped / 2));
}
