import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';

import { createDataSource } from '../data-source.factory';
import { revertLastMigration, runMigrations } from '../migration.runner';
import { SCHEDULER_PERSISTENCE } from './scheduler.persistence';
import { TimerCancelOutcome, TimerRepository } from './timer.repository';
import type { NewTimer, TimerRecord } from './timer.repository';

const T0 = Date.UTC(2026, 5, 1);

function timer(id: string, dueOffsetMs: number): NewTimer {
  return {
    id,
    dueAt: new Date(T0 + dueOffsetMs),
    subject: `events.t.${id}`,
    payload: { id, nested: { a: [1, 2] } },
    headers: { 'X-Id': id },
    createdAt: new Date(T0),
  };
}

describe('TimerRepository (integration: own database)', () => {
  let db: TestDatabase;
  const ds = () => open.ds;
  const open: { ds: ReturnType<typeof createDataSource> } = { ds: undefined as never };

  beforeAll(async () => {
    db = await createTestDatabase();
    open.ds = createDataSource(db.url, { ...SCHEDULER_PERSISTENCE, poolSize: 4 });
    await open.ds.initialize();
    await runMigrations(open.ds);
  });

  afterAll(async () => {
    if (open.ds?.isInitialized) await open.ds.destroy();
    await db?.drop();
  });

  it('migrates to exactly the entities, and reverts', async () => {
    const diff = await ds().driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
    expect(await revertLastMigration(ds())).toBe('CreateSchedules1797000000000');
    expect(await revertLastMigration(ds())).toBe('CreateSchedulerTables1795400000000');
    expect((await runMigrations(ds())).map((m) => m.name)).toEqual([
      'CreateSchedulerTables1795400000000',
      'CreateSchedules1797000000000',
    ]);
  });

  it('creates idempotently, reads, cancels (fired stays fired)', async () => {
    const repo = new TimerRepository(ds());
    const first = await repo.create(timer('c1', 100));
    expect(first.created).toBe(true);
    expect(first.timer).toMatchObject({
      id: 'c1',
      dueAt: new Date(T0 + 100),
      payload: { id: 'c1', nested: { a: [1, 2] } },
    });
    const again = await repo.create({ ...timer('c1', 999), payload: 'other' });
    expect(again).toEqual({ created: false, timer: first.timer });
    expect(await repo.get('c1')).toEqual(first.timer);
    expect(await repo.get('nope')).toBeNull();

    const cancelled = await repo.cancel('c1', new Date(T0 + 1));
    expect(cancelled.outcome).toBe(TimerCancelOutcome.CANCELLED);
    expect(cancelled.timer?.cancelledAt).toEqual(new Date(T0 + 1));
    expect((await repo.cancel('c1', new Date(T0 + 2))).timer?.cancelledAt).toEqual(new Date(T0 + 1));
    expect((await repo.cancel('nope', new Date(T0))).outcome).toBe(TimerCancelOutcome.NOT_FOUND);

    await repo.create(timer('c2', 0));
    await repo.claimDue(new Date(T0 + 10), 10, () => Promise.resolve());
    expect((await repo.cancel('c2', new Date(T0 + 20))).outcome).toBe(TimerCancelOutcome.ALREADY_FIRED);
  });

  it('claims in due order, skips rows another transaction holds, and rolls back on a failed publish', async () => {
    const repo = new TimerRepository(ds());
    for (const [id, due] of [
      ['o3', 3_000],
      ['o1', 1_000],
      ['o2', 2_000],
      ['o4', 4_000],
    ] as const) {
      await repo.create(timer(id, due));
    }
    expect(await repo.nextDueAt()).toEqual(new Date(T0 + 1_000));
    const now = new Date(T0 + 3_500);

    // A failing publish marks nothing.
    await expect(repo.claimDue(now, 10, () => Promise.reject(new Error('publish failed')))).rejects.toThrow(
      'publish failed',
    );
    expect((await repo.get('o1'))?.firedAt).toBeNull();

    // While one instance holds the first two, another claims the next ones only.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let claimedFirst: TimerRecord[] = [];
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = repo.claimDue(now, 2, async (timers) => {
      claimedFirst = timers;
      entered();
      await held;
    });
    await inside;
    const second = await repo.claimDue(now, 10, () => Promise.resolve());
    release();
    await first;
    expect(claimedFirst.map((t) => t.id)).toEqual(['o1', 'o2']);
    expect(second.map((t) => t.id)).toEqual(['o3']);
    // Nothing left due; o4 is next.
    expect(await repo.claimDue(now, 10, () => Promise.resolve())).toEqual([]);
    expect(await repo.nextDueAt()).toEqual(new Date(T0 + 4_000));
    expect((await repo.get('o1'))?.firedAt).toEqual(now);
  });
});
