import { WorkerRegistry } from './worker.registry';

const T0 = Date.UTC(2026, 5, 1);

function announcement(workerId: string, name: string, actions: string[]) {
  return {
    workerId,
    name,
    actions,
    concurrency: 4,
    version: '0.1.0',
    startedAt: new Date(T0).toISOString(),
    hostname: 'h',
    pid: 1,
  };
}

describe('WorkerRegistry', () => {
  const clock = { ms: T0, now: () => clock.ms };
  beforeEach(() => (clock.ms = T0));

  it('lists workers live within 15 s, stale after, forgotten after 5 min', () => {
    const registry = new WorkerRegistry(clock);
    expect(registry.seen(announcement('w1', 'billing', ['payments.charge']))).toBe(true);
    clock.ms = T0 + 15_000;
    expect(registry.list()).toEqual([
      {
        workerId: 'w1',
        name: 'billing',
        actions: ['payments.charge'],
        concurrency: 4,
        version: '0.1.0',
        lastSeenAt: new Date(T0).toISOString(),
        status: 'live',
      },
    ]);
    expect(registry.liveFor('payments.charge')).toBe(1);
    clock.ms = T0 + 15_001;
    expect(registry.list()[0].status).toBe('stale');
    expect(registry.liveFor('payments.charge')).toBe(0);
    // A heartbeat makes it live again.
    registry.seen(announcement('w1', 'billing', ['payments.charge']));
    expect(registry.list()[0]).toMatchObject({
      status: 'live',
      lastSeenAt: new Date(T0 + 15_001).toISOString(),
    });
    clock.ms = T0 + 15_001 + 5 * 60_000 + 1;
    expect(registry.list()).toEqual([]);
  });

  it('forgets a worker on goodbye and ignores malformed messages', () => {
    const registry = new WorkerRegistry(clock);
    registry.seen(announcement('w1', 'a', ['x.y']));
    registry.seen(announcement('w2', 'a', ['x.y']));
    expect(registry.seen({ workerId: 'w3' })).toBe(false);
    expect(registry.seen('junk')).toBe(false);
    registry.gone('w1');
    expect(registry.list().map((w) => w.workerId)).toEqual(['w2']);
  });
});
