import { NO_RETRY, backoffDelayMs, effectivePolicy, isRetryable } from './retry-policy';

describe('retry policy', () => {
  const policy = effectivePolicy(
    { maxAttempts: 4, initialIntervalMs: 100, backoffCoefficient: 3, maxIntervalMs: 500, jitter: false },
    NO_RETRY,
  );

  it('completes a partial policy from the base', () => {
    expect(effectivePolicy({ maxAttempts: 2 }, NO_RETRY)).toEqual({ ...NO_RETRY, maxAttempts: 2 });
    expect(effectivePolicy(undefined, NO_RETRY)).toEqual(NO_RETRY);
  });

  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(policy, a))).toEqual([100, 300, 500, 500]);
  });

  it('jitters within [delay/2, delay]', () => {
    const jittered = { ...policy, jitter: true };
    expect(backoffDelayMs(jittered, 2, () => 0)).toBe(150);
    expect(backoffDelayMs(jittered, 2, () => 1)).toBe(300);
    expect(backoffDelayMs(jittered, 2, () => 0.5)).toBe(225);
  });

  it('retries until maxAttempts, never non-retryable errors', () => {
    const err = { type: 'Boom', message: 'x' };
    expect(isRetryable(policy, 1, err)).toBe(true);
    expect(isRetryable(policy, 3, err)).toBe(true);
    expect(isRetryable(policy, 4, err)).toBe(false);
    expect(isRetryable(policy, 1, { ...err, nonRetryable: true })).toBe(false);
    expect(isRetryable({ ...policy, nonRetryableErrors: ['Boom'] }, 1, err)).toBe(false);
    expect(isRetryable(NO_RETRY, 1, err)).toBe(false);
  });
});
