import { createTestDatabase } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';

import { createDataSource } from '../data-source.factory';
import { runMigrations } from '../migration.runner';
import { ScheduleRepository } from './schedule.repository';
import type { NewSchedule, ScheduleAdvance, ScheduleRecord } from './schedule.repository';
import { SCHEDULER_PERSISTENCE } from './scheduler.persistence';

const T0 = Date.UTC(2026, 5, 1);

function schedule(id: string, over: Partial<NewSchedule> = {}): NewSchedule {
  return {
    id,
    workflowId: 'nightly',
    workflowVersion: null,
    expression: '* * * * * *',
    timezone: 'UTC',
    input: { id },
    overlap: 'allow',
    paused: false,
    source: 'api',
    nextFireAt: new Date(T0),
    createdAt: new Date(T0 - 1000),
    ...over,
  };
}

function advance(s: ScheduleRecord, track = false): ScheduleAdvance {
  const firedAt = s.nextFireAt;
  return {
    id: s.id,
    nextFireAt: new Date((s.nextFireAt?.getTime() ?? T0) + 1000),
    firedAt,
    executionId: `cron-${s.id}`,
    track,
  };
}

describe('ScheduleRepository (integration: own database)', () => {
  let db: TestDatabase;
  const open: { ds: ReturnType<typeof createDataSource> } = { ds: undefined as never };
  let repo: ScheduleRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    open.ds = createDataSource(db.url, { ...SCHEDULER_PERSISTENCE, poolSize: 6 });
    await open.ds.initialize();
    await runMigrations(open.ds);
    repo = new ScheduleRepository(open.ds);
  });

  afterEach(async () => {
    await open.ds.query('DELETE FROM schedules');
  });

  afterAll(async () => {
    if (open.ds?.isInitialized) await open.ds.destroy();
    await db?.drop();
  });

  it('creates idempotently, reads, lists, pauses, resumes and deletes', async () => {
    const first = await repo.create(schedule('a'));
    expect(first.created).toBe(true);
    expect(first.schedule).toMatchObject({ id: 'a', input: { id: 'a' }, overlap: 'allow', source: 'api' });
    expect((await repo.create(schedule('a', { expression: '@daily' }))).created).toBe(false);
    await repo.create(schedule('b', { workflowId: 'other' }));
    expect((await repo.list({ limit: 10 })).map((s) => s.id)).toEqual(['a', 'b']);
    expect((await repo.list({ workflowId: 'other', limit: 10 })).map((s) => s.id)).toEqual(['b']);
    expect((await repo.list({ limit: 1 })).map((s) => s.id)).toEqual(['a']);

    expect((await repo.pause('a', new Date(T0)))?.paused).toBe(true);
    expect(await repo.nextDueAt()).toEqual(new Date(T0));
    const resumed = await repo.resume('a', new Date(T0 + 5000), () => new Date(T0 + 6000));
    expect(resumed).toMatchObject({ paused: false, nextFireAt: new Date(T0 + 6000) });
    // Resuming a schedule that is not paused changes nothing.
    expect((await repo.resume('a', new Date(T0), () => new Date(0)))?.nextFireAt).toEqual(
      new Date(T0 + 6000),
    );
    expect(await repo.pause('nope', new Date(T0))).toBeNull();
    expect(await repo.resume('nope', new Date(T0), () => null)).toBeNull();

    expect((await repo.delete('a'))?.id).toBe('a');
    expect(await repo.delete('a')).toBeNull();
    expect(await repo.get('a')).toBeNull();
  });

  it('claims due schedules once across concurrent claimers (SKIP LOCKED) and applies the advances', async () => {
    for (let i = 0; i < 40; i++) await repo.create(schedule(`s${String(i).padStart(2, '0')}`));
    await repo.create(schedule('paused', { paused: true }));
    await repo.create(schedule('later', { nextFireAt: new Date(T0 + 60_000) }));
    const seen: string[] = [];
    const claimer = async () => {
      for (;;) {
        const { claimed } = await repo.claimDue(new Date(T0), 7, async (rows) => {
          seen.push(...rows.map((r) => r.id));
          await new Promise((r) => setTimeout(r, 20));
          return rows.map((r) => advance(r));
        });
        if (claimed.length === 0) return;
      }
    };
    await Promise.all([claimer(), claimer(), claimer()]);
    expect(seen.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(2, '0')}`));
    const s0 = await repo.get('s00');
    expect(s0).toMatchObject({
      nextFireAt: new Date(T0 + 1000),
      lastFireAt: new Date(T0),
      lastExecutionId: 'cron-s00',
      runningExecutionId: null,
    });
    expect(await repo.nextDueAt()).toEqual(new Date(T0 + 1000));
  });

  it('changes nothing when the fire callback throws', async () => {
    await repo.create(schedule('x'));
    await expect(
      repo.claimDue(new Date(T0), 10, () => Promise.reject(new Error('publish failed'))),
    ).rejects.toThrow('publish failed');
    expect((await repo.get('x'))?.nextFireAt).toEqual(new Date(T0));
  });

  it('tracks a running execution (skip), keeps it over a skipped fire, and releases it when it finishes', async () => {
    await repo.create(schedule('k', { overlap: 'skip' }));
    await repo.claimDue(new Date(T0), 10, async (rows) => rows.map((r) => advance(r, true)));
    expect((await repo.get('k'))?.runningExecutionId).toBe('cron-k');
    await repo.claimDue(new Date(T0 + 1000), 10, async (rows) =>
      rows.map((r) => ({
        id: r.id,
        nextFireAt: new Date(T0 + 2000),
        firedAt: null,
        executionId: null,
        track: false,
      })),
    );
    expect(await repo.get('k')).toMatchObject({
      runningExecutionId: 'cron-k',
      lastExecutionId: 'cron-k',
      lastFireAt: new Date(T0),
      nextFireAt: new Date(T0 + 2000),
    });
    expect(await repo.executionFinished('cron-k')).toBe('released');
    expect((await repo.get('k'))?.runningExecutionId).toBeNull();
    expect(await repo.executionFinished('cron-k')).toBe('known');
    expect(await repo.executionFinished('cron-unknown')).toBe('unknown');
  });

  it('syncs definition schedules by version: replaces older, never goes back, removes on delete', async () => {
    const def = (i: number, version: number, expression = '0 * * * *') =>
      schedule(`wf-nightly-${i}`, {
        source: 'definition',
        workflowVersion: version,
        expression,
        nextFireAt: new Date(T0 + 3_600_000),
      });
    expect(await repo.syncDefinition('nightly', 1, [def(0, 1), def(1, 1)], new Date(T0))).toEqual({
      upserted: 2,
      removed: 0,
    });
    await repo.pause('wf-nightly-0', new Date(T0));
    // Same version again (a restart re-reads the bucket): nothing changes, the pause stays.
    await repo.syncDefinition(
      'nightly',
      1,
      [{ ...def(0, 1), nextFireAt: new Date(T0 + 7_200_000) }],
      new Date(T0),
    );
    expect(await repo.get('wf-nightly-0')).toMatchObject({
      paused: true,
      nextFireAt: new Date(T0 + 3_600_000),
    });
    expect(await repo.get('wf-nightly-1')).toBeNull();

    // Version 2 changes the expression: new next fire; version 1 is left behind.
    await repo.syncDefinition(
      'nightly',
      2,
      [{ ...def(0, 2, '*/5 * * * *'), nextFireAt: new Date(T0 + 300_000) }],
      new Date(T0),
    );
    expect(await repo.get('wf-nightly-0')).toMatchObject({
      workflowVersion: 2,
      expression: '*/5 * * * *',
      nextFireAt: new Date(T0 + 300_000),
      paused: true,
    });
    // An instance that learns of version 1 late cannot bring it back.
    expect(await repo.syncDefinition('nightly', 1, [def(0, 1), def(1, 1)], new Date(T0))).toEqual({
      upserted: 0,
      removed: 0,
    });
    expect(await repo.get('wf-nightly-0')).toMatchObject({ workflowVersion: 2, expression: '*/5 * * * *' });
    expect(await repo.get('wf-nightly-1')).toBeNull();

    // An API schedule of the same workflow is not touched.
    await repo.create(schedule('api-one'));
    expect(await repo.removeDefinition('nightly', 2)).toBe(1);
    expect((await repo.list({ workflowId: 'nightly', limit: 10 })).map((s) => s.id)).toEqual(['api-one']);
  });
});
