import type { TimerRecord } from '@baton/persistence';

import type { Clock } from '../due-loop';
import { TimerFiring, type TimerStore } from './timer.firing';

const T0 = Date.UTC(2026, 5, 1);

/** Claims like the SQL: pending, due at `now`, in due order, up to `limit`; marks fired only when `fire` succeeds. */
class FakeTimerStore implements TimerStore {
  readonly timers: TimerRecord[] = [];

  add(id: string, dueOffsetMs: number, extra: Partial<TimerRecord> = {}): void {
    this.timers.push({
      id,
      dueAt: new Date(T0 + dueOffsetMs),
      subject: `events.timer.${id}`,
      payload: { id },
      headers: {},
      createdAt: new Date(T0),
      firedAt: null,
      cancelledAt: null,
      ...extra,
    });
  }

  private pending(): TimerRecord[] {
    return this.timers
      .filter((t) => t.firedAt === null && t.cancelledAt === null)
      .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.id.localeCompare(b.id));
  }

  async claimDue(
    now: Date,
    limit: number,
    fire: (t: TimerRecord[]) => Promise<void>,
  ): Promise<TimerRecord[]> {
    const due = this.pending()
      .filter((t) => t.dueAt.getTime() <= now.getTime())
      .slice(0, limit);
    if (due.length === 0) return [];
    await fire(due.map((t) => ({ ...t })));
    for (const t of due) t.firedAt = now;
    return due;
  }

  async nextDueAt(): Promise<Date | null> {
    return this.pending()[0]?.dueAt ?? null;
  }
}

class FakeClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

function setup(batchSize = 2) {
  const store = new FakeTimerStore();
  const clock = new FakeClock(T0);
  const published: string[] = [];
  const lags: number[] = [];
  let failNext = false;
  const firing = new TimerFiring(
    store,
    async (t) => {
      if (failNext) {
        failNext = false;
        throw new Error('no responders');
      }
      published.push(t.id);
    },
    clock,
    { batchSize, pollIntervalMs: 1_000, onFired: (l) => lags.push(...l) },
  );
  return { store, clock, published, lags, firing, failOnce: () => (failNext = true) };
}

describe('TimerFiring', () => {
  it('fires nothing before the due time and sleeps exactly until it', async () => {
    const { store, clock, published, firing } = setup();
    store.add('a', 300);
    expect(await firing.tick()).toBe(300);
    expect(published).toEqual([]);
    clock.ms = T0 + 299;
    expect(await firing.tick()).toBe(1);
    clock.ms = T0 + 300;
    expect(await firing.tick()).toBe(1_000);
    expect(published).toEqual(['a']);
  });

  it('after downtime fires every overdue timer at once, in due order, across batches', async () => {
    const { store, clock, published, lags, firing } = setup(2);
    store.add('c', 30);
    store.add('a', 10);
    store.add('e', 50);
    store.add('b', 20);
    store.add('d', 40);
    store.add('later', 10_500);
    clock.ms = T0 + 10_000;
    expect(await firing.fireDue()).toBe(5);
    expect(published).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(lags).toEqual([9_990, 9_980, 9_970, 9_960, 9_950]);
    expect(await firing.sleepMs()).toBe(500);
  });

  it('skips cancelled timers and never fires one twice', async () => {
    const { store, clock, published, firing } = setup();
    store.add('x', 0, { cancelledAt: new Date(T0) });
    store.add('y', 0);
    clock.ms = T0 + 1;
    await firing.tick();
    await firing.tick();
    expect(published).toEqual(['y']);
  });

  it('leaves a batch unfired when publishing fails, and fires it on the next round', async () => {
    const { store, clock, published, firing, failOnce } = setup();
    store.add('a', 0);
    clock.ms = T0 + 5;
    failOnce();
    await expect(firing.tick()).rejects.toThrow('no responders');
    expect(store.timers[0].firedAt).toBeNull();
    await firing.tick();
    expect(published).toEqual(['a']);
    expect(store.timers[0].firedAt).toEqual(new Date(T0 + 5));
  });

  it('sleeps at most the poll interval, also with nothing pending', async () => {
    const { store, firing } = setup();
    expect(await firing.sleepMs()).toBe(1_000);
    store.add('far', 3_600_000);
    expect(await firing.sleepMs()).toBe(1_000);
  });

  describe('loop', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('sleeps until the poll interval, and is woken at once by a timer created due sooner', async () => {
      const { store, clock, published, firing } = setup();
      firing.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(published).toEqual([]);
      // Created here, due now: no need to wait for the 1 s poll.
      store.add('now', 0);
      firing.wake(new Date(T0));
      await jest.advanceTimersByTimeAsync(0);
      expect(published).toEqual(['now']);
      // Due later than the planned wake-up: no early round, fired when due.
      store.add('later', 500);
      firing.wake(new Date(T0 + 5_000));
      await jest.advanceTimersByTimeAsync(0);
      expect(published).toEqual(['now']);
      clock.ms = T0 + 1_000;
      await jest.advanceTimersByTimeAsync(1_000);
      expect(published).toEqual(['now', 'later']);
      await firing.stop();
    });
  });
});
