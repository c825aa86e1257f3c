import { scheduleExecutionId } from '@baton/contracts';
import type { ScheduleAdvance, ScheduleRecord } from '@baton/persistence';

import { latestFireAtOrBefore, nextFireAfter } from './schedule-cron';
import {
  type FiredBatch,
  type ScheduleFire,
  ScheduleFiring,
  type ScheduleStore,
  planFire,
} from './schedule.firing';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

function schedule(over: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id: 's1',
    workflowId: 'nightly',
    workflowVersion: null,
    expression: '*/10 * * * * *',
    timezone: 'UTC',
    input: { a: 1 },
    overlap: 'allow',
    paused: false,
    source: 'api',
    nextFireAt: new Date(T0),
    lastFireAt: null,
    lastExecutionId: null,
    runningExecutionId: null,
    createdAt: new Date(T0 - 60_000),
    updatedAt: new Date(T0 - 60_000),
    ...over,
  };
}

/** An in-memory store with the repository's claim semantics (due, not paused, in due order). */
class FakeStore implements ScheduleStore {
  readonly rows = new Map<string, ScheduleRecord>();

  constructor(rows: ScheduleRecord[]) {
    for (const r of rows) this.rows.set(r.id, { ...r });
  }

  async claimDue(
    now: Date,
    limit: number,
    fire: (schedules: ScheduleRecord[]) => Promise<ScheduleAdvance[]>,
  ): Promise<{ claimed: ScheduleRecord[]; advances: ScheduleAdvance[] }> {
    const claimed = [...this.rows.values()]
      .filter((r) => !r.paused && r.nextFireAt !== null && r.nextFireAt.getTime() <= now.getTime())
      .sort((a, b) => (a.nextFireAt?.getTime() ?? 0) - (b.nextFireAt?.getTime() ?? 0))
      .slice(0, limit);
    if (claimed.length === 0) return { claimed, advances: [] };
    const advances = await fire(claimed.map((c) => ({ ...c })));
    for (const a of advances) {
      const row = this.rows.get(a.id);
      if (!row) continue;
      row.nextFireAt = a.nextFireAt;
      if (a.firedAt) row.lastFireAt = a.firedAt;
      if (a.executionId) row.lastExecutionId = a.executionId;
      if (a.track) row.runningExecutionId = a.executionId;
    }
    return { claimed, advances };
  }

  nextDueAt(): Promise<Date | null> {
    const times = [...this.rows.values()]
      .filter((r) => !r.paused && r.nextFireAt !== null)
      .map((r) => r.nextFireAt?.getTime() ?? 0);
    return Promise.resolve(times.length === 0 ? null : new Date(Math.min(...times)));
  }
}

function harness(
  rows: ScheduleRecord[],
  opts: { failPublish?: boolean; batchSize?: number; misfireGraceMs?: number } = {},
) {
  const clock = { t: T0, now: () => clock.t };
  const store = new FakeStore(rows);
  const published: ScheduleFire[] = [];
  const batches: FiredBatch[] = [];
  const firing = new ScheduleFiring(
    store,
    (fire) => {
      if (opts.failPublish) return Promise.reject(new Error('nats down'));
      published.push(fire);
      return Promise.resolve();
    },
    clock,
    {
      batchSize: opts.batchSize ?? 100,
      pollIntervalMs: 1_000,
      onFired: (b) => batches.push(b),
      ...(opts.misfireGraceMs === undefined ? {} : { misfireGraceMs: opts.misfireGraceMs }),
    },
  );
  return { clock, store, published, batches, firing };
}

describe('cron arithmetic', () => {
  it('finds the next fire strictly after a time and the latest at or before it, in the time zone', () => {
    expect(nextFireAfter('*/10 * * * * *', 'UTC', new Date(T0))).toEqual(new Date(T0 + 10_000));
    expect(nextFireAfter('*/10 * * * * *', 'UTC', new Date(T0 + 1))).toEqual(new Date(T0 + 10_000));
    expect(latestFireAtOrBefore('*/10 * * * * *', 'UTC', new Date(T0))).toEqual(new Date(T0));
    expect(latestFireAtOrBefore('*/10 * * * * *', 'UTC', new Date(T0 + 9_999))).toEqual(new Date(T0));
    // 09:00 in Berlin is 07:00 UTC in summer.
    expect(nextFireAfter('0 9 * * *', 'Europe/Berlin', new Date(T0))).toEqual(
      new Date(Date.UTC(2026, 5, 2, 7, 0, 0)),
    );
  });
});

describe('planFire', () => {
  it('fires at the due time and advances to the first time after now', () => {
    const plan = planFire(schedule(), new Date(T0 + 120));
    expect(plan.fire?.fireAt).toEqual(new Date(T0));
    expect(plan.fire?.executionId).toBe(scheduleExecutionId('s1', new Date(T0)));
    expect(plan.advance).toEqual({
      id: 's1',
      nextFireAt: new Date(T0 + 10_000),
      firedAt: new Date(T0),
      executionId: scheduleExecutionId('s1', new Date(T0)),
      track: false,
    });
  });

  it('after downtime fires once, for the latest missed time, not a burst', () => {
    const now = new Date(T0 + 3_600_000 + 4_000); // an hour and 4 s late: 360 missed fire times
    const plan = planFire(schedule(), now);
    expect(plan.fire?.fireAt).toEqual(new Date(T0 + 3_600_000));
    expect(plan.advance.nextFireAt).toEqual(new Date(T0 + 3_610_000));
  });

  it('within the misfire grace fires each missed time for itself, in order', () => {
    const now = new Date(T0 + 25_000); // 25 s late for a */10 s schedule: T0, T0+10 s and T0+20 s are due
    const first = planFire(schedule(), now, 30_000);
    expect(first.fire?.fireAt).toEqual(new Date(T0));
    expect(first.advance.nextFireAt).toEqual(new Date(T0 + 10_000));
    const second = planFire(schedule({ nextFireAt: new Date(T0 + 10_000) }), now, 30_000);
    expect(second.fire?.fireAt).toEqual(new Date(T0 + 10_000));
    expect(second.advance.nextFireAt).toEqual(new Date(T0 + 20_000));
    // Past the grace, the same lateness is downtime: one fire for the latest time, next after now.
    const late = planFire(schedule(), now, 5_000);
    expect(late.fire?.fireAt).toEqual(new Date(T0 + 20_000));
    expect(late.advance.nextFireAt).toEqual(new Date(T0 + 30_000));
  });

  it('derives the same execution id on every instance and retry, different ids for different times', () => {
    const a = planFire(schedule(), new Date(T0 + 5));
    const b = planFire(schedule(), new Date(T0 + 900));
    const c = planFire(schedule({ nextFireAt: new Date(T0 + 10_000) }), new Date(T0 + 10_001));
    expect(a.fire?.executionId).toBe(b.fire?.executionId);
    expect(c.fire?.executionId).not.toBe(a.fire?.executionId);
    expect(a.fire?.executionId).toMatch(/^cron-[A-Za-z0-9_-]{26}$/);
  });

  it('overlap skip: tracks the started execution, and skips while it runs', () => {
    const first = planFire(schedule({ overlap: 'skip' }), new Date(T0));
    expect(first.advance.track).toBe(true);
    const busy = planFire(
      schedule({ overlap: 'skip', runningExecutionId: 'cron-previous', nextFireAt: new Date(T0 + 10_000) }),
      new Date(T0 + 10_000),
    );
    expect(busy.fire).toBeUndefined();
    expect(busy.advance).toEqual({
      id: 's1',
      nextFireAt: new Date(T0 + 20_000),
      firedAt: null,
      executionId: null,
      track: false,
    });
  });

  it('overlap allow: starts even while an earlier execution runs', () => {
    const plan = planFire(schedule({ overlap: 'allow', runningExecutionId: 'cron-previous' }), new Date(T0));
    expect(plan.fire).toBeDefined();
  });
});

describe('ScheduleFiring', () => {
  it('after a gap within the grace (an instance taking over) starts every missed fire time, once', async () => {
    const { clock, published, firing } = harness([schedule()], { misfireGraceMs: 30_000 });
    clock.t = T0 + 25_000;
    for (let round = 0; round < 5; round++) await firing.fireDue();
    expect(published.map((p) => p.fireAt.getTime() - T0)).toEqual([0, 10_000, 20_000]);
    expect(new Set(published.map((p) => p.executionId)).size).toBe(3);
    expect(await firing.sleepMs()).toBe(1_000);
  });

  it('fires due schedules once per fire time as the clock moves, with no sleeps', async () => {
    const { clock, published, firing, batches } = harness([schedule()]);
    expect(await firing.fireDue()).toHaveLength(1);
    expect(await firing.fireDue()).toHaveLength(0);
    expect(await firing.sleepMs()).toBe(1_000);
    clock.t = T0 + 9_999;
    expect(await firing.fireDue()).toHaveLength(0);
    expect(await firing.sleepMs()).toBe(1);
    clock.t = T0 + 10_000;
    expect(await firing.fireDue()).toHaveLength(1);
    expect(published.map((p) => p.fireAt.getTime() - T0)).toEqual([0, 10_000]);
    expect(batches.map((b) => b.lagsMs)).toEqual([[0], [0]]);
  });

  it('catches up one fire after downtime, then resumes the cadence', async () => {
    const { clock, published, firing } = harness([schedule()]);
    clock.t = T0 + 125_000;
    await firing.fireDue();
    expect(published.map((p) => p.fireAt.getTime() - T0)).toEqual([120_000]);
    clock.t = T0 + 130_000;
    await firing.fireDue();
    expect(published.map((p) => p.fireAt.getTime() - T0)).toEqual([120_000, 130_000]);
  });

  it('overlap skip: no fire until the running execution is released, then fires again', async () => {
    const { clock, store, published, firing, batches } = harness([schedule({ overlap: 'skip' })]);
    await firing.fireDue();
    const running = store.rows.get('s1')?.runningExecutionId;
    expect(running).toBe(published[0].executionId);
    clock.t = T0 + 10_000;
    await firing.fireDue();
    clock.t = T0 + 20_000;
    await firing.fireDue();
    expect(published).toHaveLength(1);
    expect(batches.map((b) => b.skipped)).toEqual([0, 1, 1]);
    const row = store.rows.get('s1');
    if (row) row.runningExecutionId = null; // the completion notification arrived
    clock.t = T0 + 30_000;
    await firing.fireDue();
    expect(published.map((p) => p.fireAt.getTime() - T0)).toEqual([0, 30_000]);
  });

  it('leaves a schedule due when publishing fails, and fires it on the next round', async () => {
    const failing = harness([schedule()], { failPublish: true });
    await expect(failing.firing.fireDue()).rejects.toThrow('nats down');
    expect(failing.store.rows.get('s1')?.nextFireAt).toEqual(new Date(T0));
  });

  it('skips paused schedules and works in batches', async () => {
    const rows = [
      schedule({ id: 'a' }),
      schedule({ id: 'b' }),
      schedule({ id: 'c' }),
      schedule({ id: 'p', paused: true }),
    ];
    const { published, firing, batches } = harness(rows, { batchSize: 2 });
    await firing.fireDue();
    expect(published.map((p) => p.schedule.id).sort()).toEqual(['a', 'b', 'c']);
    expect(batches).toHaveLength(2);
  });
});
