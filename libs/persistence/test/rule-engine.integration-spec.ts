import { createTestDatabase, type TestDatabase } from '@baton/testing';

import {
  type DataSource,
  RULE_ENGINE_PERSISTENCE,
  RuleRepository,
  createDataSource,
  pendingMigrations,
  revertLastMigration,
  runMigrations,
} from '../src';
import type { RuleDefinition } from '../src';

const MIGRATIONS = ['CreateRuleEngineTables1795400000000', 'RuleVersionsCategoryIndex1797100000000'];

const def = (id: string, patch: Partial<RuleDefinition> = {}): RuleDefinition => ({
  id,
  name: `rule ${id}`,
  description: '',
  category: 'c',
  condition: { all: [{ fact: 'x', operator: 'equal', value: 1 }] },
  actions: [{ type: 'approve' }],
  priority: 0,
  enabled: true,
  ...patch,
});

describe('rule-engine persistence', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let rules: RuleRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = createDataSource(db.url, { ...RULE_ENGINE_PERSISTENCE, poolSize: 4 });
    await ds.initialize();
    rules = new RuleRepository(ds);
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('migrates, matches the entities exactly, reverts and applies again', async () => {
    expect((await runMigrations(ds)).map((m) => m.name)).toEqual(MIGRATIONS);
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
    expect(await revertLastMigration(ds)).toBe(MIGRATIONS[1]);
    expect(await pendingMigrations(ds)).toEqual([MIGRATIONS[1]]);
    expect((await runMigrations(ds)).map((m) => m.name)).toEqual([MIGRATIONS[1]]);
  });

  it('writes one version per change, in order, and keeps deleted rules’ history', async () => {
    const created = await rules.create(def('r1', { category: 'a' }));
    expect(created).toMatchObject({ rule: { version: 1, operation: 'create' }, categories: ['a'] });
    const moved = await rules.update(def('r1', { category: 'b', priority: 3 }));
    expect(moved).toMatchObject({ rule: { version: 2, operation: 'update' }, categories: ['b', 'a'] });
    expect(moved?.current).toMatchObject({ version: 2, category: 'b', createdAt: created.current.createdAt });
    expect(await rules.update(def('unknown'))).toBeNull();
    expect((await rules.remove('r1'))?.rule).toMatchObject({
      version: 3,
      operation: 'delete',
      category: 'b',
    });
    expect(await rules.remove('r1')).toBeNull();
    expect(await rules.get('r1')).toBeNull();
    expect(await rules.list()).toEqual([]);
    expect((await rules.versions('r1'))?.map((v) => v.operation)).toEqual(['create', 'update', 'delete']);
    expect(await rules.versions('never')).toBeNull();
    expect((await rules.create(def('r1'))).rule.version).toBe(4);
  });

  it('lets exactly one of concurrent creates of an id win (the others: CONFLICT)', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => rules.create(def('race'))));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'CONFLICT' });
    }
    expect((await rules.versions('race'))?.map((v) => v.version)).toEqual([1]);
  });

  it('serializes concurrent updates of a rule: every version is recorded once', async () => {
    await rules.create(def('busy'));
    await Promise.all(Array.from({ length: 8 }, (_, i) => rules.update(def('busy', { priority: i }))));
    expect((await rules.versions('busy'))?.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await rules.get('busy'))?.version).toBe(9);
  });

  it('lists live rules by category, highest priority first; reads several by id', async () => {
    await rules.create(def('l-low', { category: 'list', priority: 1 }));
    await rules.create(def('l-high', { category: 'list', priority: 5 }));
    expect((await rules.list({ category: 'list' })).map((r) => r.id)).toEqual(['l-high', 'l-low']);
    expect((await rules.getMany(['l-low', 'nope', 'l-high'])).map((r) => r.id)).toEqual(['l-high', 'l-low']);
  });

  it('reads a category as it was at a time, and when it last changed', async () => {
    const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
    expect(await rules.categoryChangedAt('pin')).toBeNull();
    await rules.create(def('p-a', { category: 'pin', priority: 2, actions: [{ type: 'approve' }] }));
    await rules.create(def('p-moved', { category: 'pin', priority: 1 }));
    await rules.create(def('p-gone', { category: 'pin', priority: 0 }));
    await tick();
    const before = new Date();
    await tick();
    await rules.update(def('p-a', { category: 'pin', priority: 2, actions: [{ type: 'reject' }] }));
    await rules.create(def('p-new', { category: 'pin', priority: 9 }));
    await rules.remove('p-gone');
    await tick();
    const afterChanges = new Date();
    await tick();
    await rules.update(def('p-moved', { category: 'elsewhere', priority: 1 }));
    await rules.update(def('p-off', { category: 'pin' })); // unknown: no version
    const moved = await rules.versions('p-moved');

    const then = await rules.categoryAsOf('pin', before);
    expect(then.map((r) => [r.id, r.version, r.actions[0]?.type])).toEqual([
      ['p-a', 1, 'approve'],
      ['p-moved', 1, 'approve'],
      ['p-gone', 1, 'approve'],
    ]);
    expect((await rules.categoryAsOf('pin', afterChanges)).map((r) => [r.id, r.version])).toEqual([
      ['p-new', 1],
      ['p-a', 2],
      ['p-moved', 1],
    ]);
    expect((await rules.categoryAsOf('pin', new Date())).map((r) => r.id)).toEqual(['p-new', 'p-a']);
    expect((await rules.categoryAsOf('elsewhere', new Date())).map((r) => r.id)).toEqual(['p-moved']);
    expect(await rules.categoryAsOf('pin', new Date(0))).toEqual([]);
    // Moving p-moved out of `pin` changed `pin` too.
    expect((await rules.categoryChangedAt('pin'))?.toISOString()).toBe(moved?.[1]?.recordedAt);
    expect((await rules.categoryChangedAt('elsewhere'))?.toISOString()).toBe(moved?.[1]?.recordedAt);
  });

  it('leaves disabled versions out of a category as of a time', async () => {
    await rules.create(def('d-1', { category: 'dis', enabled: false }));
    await rules.create(def('d-2', { category: 'dis' }));
    expect((await rules.categoryAsOf('dis', new Date())).map((r) => r.id)).toEqual(['d-2']);
  });
});
