import type { ErrorPolicy, StepDefinition, WorkflowDefinition } from '@baton/contracts';

import { matchesErrorType, resolvePolicy } from './policy-resolution';
import { parseErrorPolicy } from './policy.schema';

const policies: Record<string, ErrorPolicy> = {
  timeouts: {
    name: 'timeouts',
    errorTypes: ['TIMEOUT'],
    onExhausted: 'escalate',
    retryPolicy: { maxAttempts: 5 },
  },
  card: { name: 'card', errorTypes: ['CardDeclined', 'CardExpired'], onExhausted: 'compensate' },
  'catch-all': { name: 'catch-all', errorTypes: ['*'], onExhausted: 'fail' },
  anything: { name: 'anything', errorTypes: [], onExhausted: 'continue' },
};
const lookup = (name: string) => policies[name];

const def = (names: string[] | undefined): WorkflowDefinition => ({
  id: 'wf',
  version: 1,
  ...(names === undefined ? {} : { policies: names }),
  steps: [{ id: 'a', type: 'task', action: 'x.y' }],
});
const step = (policy?: string): StepDefinition => ({
  id: 'a',
  type: 'task',
  action: 'x.y',
  ...(policy ? { policy } : {}),
});

describe('resolvePolicy', () => {
  it('takes the definition policies in order: the first whose errorTypes match', () => {
    const d = def(['timeouts', 'card', 'catch-all']);
    expect(resolvePolicy(lookup, d, step(), 'TIMEOUT')?.name).toBe('timeouts');
    expect(resolvePolicy(lookup, d, step(), 'CardExpired')?.name).toBe('card');
    expect(resolvePolicy(lookup, d, step(), 'Other')?.name).toBe('catch-all');
    expect(resolvePolicy(lookup, def(['catch-all', 'timeouts']), step(), 'TIMEOUT')?.name).toBe('catch-all');
  });

  it("prefers the step's own named policy whatever the error type", () => {
    expect(resolvePolicy(lookup, def(['catch-all']), step('card'), 'TIMEOUT')?.name).toBe('card');
  });

  it('falls back to the definition when the step names an unregistered policy', () => {
    expect(resolvePolicy(lookup, def(['timeouts']), step('missing'), 'TIMEOUT')?.name).toBe('timeouts');
  });

  it('returns none when nothing matches, nothing is named, or the named policies are unknown', () => {
    expect(resolvePolicy(lookup, def(['timeouts', 'card']), step(), 'Other')).toBeUndefined();
    expect(resolvePolicy(lookup, def(undefined), step(), 'TIMEOUT')).toBeUndefined();
    expect(resolvePolicy(lookup, def(['gone']), step(), 'TIMEOUT')).toBeUndefined();
  });

  it('treats empty errorTypes and "*" as any type', () => {
    expect(matchesErrorType(policies.anything, 'X')).toBe(true);
    expect(matchesErrorType(policies['catch-all'], 'X')).toBe(true);
    expect(matchesErrorType(policies.card, 'X')).toBe(false);
  });
});

describe('parseErrorPolicy', () => {
  it('accepts a full policy', () => {
    const p = {
      name: 'default-retry',
      errorTypes: ['TIMEOUT', 'UNAVAILABLE'],
      retryPolicy: {
        maxAttempts: 5,
        initialIntervalMs: 200,
        backoffCoefficient: 2,
        maxIntervalMs: 10_000,
        jitter: true,
      },
      onExhausted: 'escalate',
    };
    expect(parseErrorPolicy(p)).toEqual(p);
  });

  it.each([
    [{ errorTypes: [], onExhausted: 'fail' }, '/name'],
    [{ name: 'a.b', errorTypes: [], onExhausted: 'fail' }, '/name'],
    [{ name: 'a', errorTypes: 'TIMEOUT', onExhausted: 'fail' }, '/errorTypes'],
    [{ name: 'a', errorTypes: [''], onExhausted: 'fail' }, '/errorTypes/0'],
    [{ name: 'a', errorTypes: [], onExhausted: 'retry' }, '/onExhausted'],
    [
      { name: 'a', errorTypes: [], onExhausted: 'fail', retryPolicy: { maxAttempts: 0 } },
      '/retryPolicy/maxAttempts',
    ],
    [
      { name: 'a', errorTypes: [], onExhausted: 'fail', retryPolicy: { maxAttempts: 101 } },
      '/retryPolicy/maxAttempts',
    ],
    [
      { name: 'a', errorTypes: [], onExhausted: 'fail', retryPolicy: { backoffCoefficient: 0.5 } },
      '/retryPolicy/backoffCoefficient',
    ],
    [
      { name: 'a', errorTypes: [], onExhausted: 'fail', retryPolicy: { jitter: 'yes' } },
      '/retryPolicy/jitter',
    ],
    [{ name: 'a', errorTypes: [], onExhausted: 'fail', retryPolicy: { nope: 1 } }, '/retryPolicy'],
    [{ name: 'a', errorTypes: [], onExhausted: 'fail', extra: true }, '/'],
  ])('rejects %j naming %s', (body, path) => {
    expect(() => parseErrorPolicy(body)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: expect.arrayContaining([expect.objectContaining({ path })]),
      }),
    );
  });
});
