import { ReadinessRegistry } from './readiness.registry';

describe('ReadinessRegistry', () => {
  it('keeps checks in registration order under unique names', async () => {
    const registry = new ReadinessRegistry();
    const calls: string[] = [];
    registry.add('nats', async () => void calls.push('nats'));
    registry.add('database', async () => void calls.push('database'));
    expect(() => registry.add('nats', async () => undefined)).toThrow(/already registered/);
    expect(() => registry.add('bad name', async () => undefined)).toThrow(/invalid readiness check name/);
    for (const [, check] of registry.entries()) await check();
    expect(calls).toEqual(['nats', 'database']);
    expect(registry.remove('nats')).toBe(true);
    expect(registry.entries().map(([name]) => name)).toEqual(['database']);
  });
});
