import { Registry } from 'prom-client';

import { CircuitBreaker } from './circuit-breaker';
import { circuitConfigFrom } from './circuit.config';

/** A manual clock: tests move time, nothing sleeps. */
class Clock {
  constructor(public t = 1_000_000) {}
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

const A = 'payments.charge';

describe('CircuitBreaker', () => {
  const make = (registry?: Registry) =>
    new CircuitBreaker({ threshold: 3, coolOffMs: 10_000, holdMs: 500, probeTimeoutMs: 20_000, registry });

  it('stays closed below the threshold; a success resets the streak', () => {
    const clock = new Clock();
    const b = make();
    b.record(A, 'failure', clock.t);
    b.record(A, 'failure', clock.t);
    b.record(A, 'success', clock.t);
    b.record(A, 'failure', clock.t);
    b.record(A, 'failure', clock.t);
    expect(b.check(A, clock.t)).toEqual({ allowed: true });
    expect(b.state(A)).toMatchObject({ state: 'closed', consecutiveFailures: 2, opens: 0 });
  });

  it('opens after N consecutive failures and holds attempts until the cool-off ends', () => {
    const clock = new Clock();
    const b = make();
    for (let i = 0; i < 3; i++) b.record(A, 'failure', clock.t);
    const openedAt = clock.t;
    expect(b.check(A, clock.advance(1))).toEqual({ allowed: false, retryAt: openedAt + 10_000 });
    expect(b.check(A, clock.advance(9_000))).toEqual({ allowed: false, retryAt: openedAt + 10_000 });
    expect(b.state(A)).toMatchObject({
      state: 'open',
      opens: 1,
      openedAt: new Date(openedAt).toISOString(),
      probeAt: new Date(openedAt + 10_000).toISOString(),
    });
    // Other actions are not affected.
    expect(b.check('inventory.reserve', clock.t)).toEqual({ allowed: true });
  });

  it('lets exactly one probe through when half-open; others wait holdMs at a time', () => {
    const clock = new Clock();
    const b = make();
    for (let i = 0; i < 3; i++) b.record(A, 'failure', clock.t);
    clock.advance(10_000);
    expect(b.check(A, clock.t)).toEqual({ allowed: true });
    expect(b.state(A).state).toBe('half-open');
    expect(b.check(A, clock.t)).toEqual({ allowed: false, retryAt: clock.t + 500 });
    expect(b.check(A, clock.advance(400))).toEqual({ allowed: false, retryAt: clock.t + 500 });
  });

  it("closes on the probe's success", () => {
    const clock = new Clock();
    const b = make();
    for (let i = 0; i < 3; i++) b.record(A, 'failure', clock.t);
    expect(b.check(A, clock.advance(10_000)).allowed).toBe(true);
    b.record(A, 'success', clock.advance(50));
    expect(b.state(A)).toMatchObject({ state: 'closed', consecutiveFailures: 0, opens: 1 });
    expect(b.check(A, clock.t)).toEqual({ allowed: true });
    expect(b.check(A, clock.t)).toEqual({ allowed: true });
  });

  it("re-opens for another cool-off on the probe's failure", () => {
    const clock = new Clock();
    const b = make();
    for (let i = 0; i < 3; i++) b.record(A, 'failure', clock.t);
    expect(b.check(A, clock.advance(10_000)).allowed).toBe(true);
    b.record(A, 'failure', clock.advance(100));
    const reopenedAt = clock.t;
    expect(b.state(A)).toMatchObject({ state: 'open', opens: 2 });
    expect(b.check(A, clock.advance(1))).toEqual({ allowed: false, retryAt: reopenedAt + 10_000 });
  });

  it('ignores late outcomes while open, and lets another probe go when one is lost', () => {
    const clock = new Clock();
    const b = make();
    for (let i = 0; i < 3; i++) b.record(A, 'failure', clock.t);
    b.record(A, 'success', clock.advance(10));
    b.record(A, 'failure', clock.advance(10));
    expect(b.state(A)).toMatchObject({ state: 'open', opens: 1 });
    expect(b.check(A, clock.advance(10_000)).allowed).toBe(true);
    expect(b.check(A, clock.advance(19_999)).allowed).toBe(false);
    // The probe never reported back: after probeTimeoutMs another attempt may probe.
    expect(b.check(A, clock.advance(1)).allowed).toBe(true);
    expect(b.check(A, clock.t).allowed).toBe(false);
  });

  it('is off with threshold 0', () => {
    const b = new CircuitBreaker({ threshold: 0 });
    for (let i = 0; i < 100; i++) b.record(A, 'failure', i);
    expect(b.enabled).toBe(false);
    expect(b.check(A, 100)).toEqual({ allowed: true });
    expect(b.states()).toEqual([]);
  });

  it('exports baton_circuit_state (0 closed, 1 half-open, 2 open) and baton_circuit_opens_total', async () => {
    const registry = new Registry();
    const clock = new Clock();
    const b = make(registry);
    const value = async (name: string) =>
      (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.action === A)?.value;
    b.record(A, 'failure', clock.t);
    expect(await value('baton_circuit_state')).toBe(0);
    b.record(A, 'failure', clock.t);
    b.record(A, 'failure', clock.t);
    expect(await value('baton_circuit_state')).toBe(2);
    expect(await value('baton_circuit_opens_total')).toBe(1);
    b.check(A, clock.advance(10_000));
    expect(await value('baton_circuit_state')).toBe(1);
    b.record(A, 'success', clock.t);
    expect(await value('baton_circuit_state')).toBe(0);
    expect(await registry.metrics()).toContain('baton_circuit_state{action="payments.charge"} 0');
  });
});

describe('circuitConfigFrom', () => {
  it('applies defaults and reads the BATON_CIRCUIT_* settings of a parsed configuration', () => {
    expect(circuitConfigFrom({ LOG_LEVEL: 'info' })).toEqual({
      BATON_CIRCUIT_THRESHOLD: 5,
      BATON_CIRCUIT_COOL_OFF_MS: 30_000,
      BATON_CIRCUIT_HOLD_MS: 1_000,
      BATON_CIRCUIT_PROBE_TIMEOUT_MS: 60_000,
    });
    expect(circuitConfigFrom({ BATON_CIRCUIT_THRESHOLD: '2' }).BATON_CIRCUIT_THRESHOLD).toBe(2);
    expect(() => circuitConfigFrom({ BATON_CIRCUIT_COOL_OFF_MS: 5 })).toThrow();
  });
});
