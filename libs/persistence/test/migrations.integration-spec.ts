import { createTestDatabase, type TestDatabase } from '@baton/testing';

import {
  type DataSource,
  STATE_STORE_PERSISTENCE,
  createDataSource,
  pendingMigrations,
  revertLastMigration,
  runMigrations,
} from '../src';

async function tables(ds: DataSource): Promise<string[]> {
  const rows = await ds.query<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

/** The state-store's migrations, in order. */
const ALL = ['CreateStateStoreTables1795264300254', 'DeadLetterStatus1796000000000'];

describe('state-store migrations', () => {
  let db: TestDatabase;
  const sources: DataSource[] = [];

  const open = async (): Promise<DataSource> => {
    const ds = createDataSource(db.url, { ...STATE_STORE_PERSISTENCE, poolSize: 2 });
    await ds.initialize();
    sources.push(ds);
    return ds;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('apply once when several instances start at the same time (advisory lock)', async () => {
    const instances = await Promise.all([open(), open(), open(), open()]);
    const results = await Promise.all(instances.map((ds) => runMigrations(ds)));
    const applied = results.map((r) => r.map((m) => m.name));
    // Exactly one instance applied the migration; the others found nothing pending.
    expect(applied.filter((names) => names.length > 0)).toEqual([ALL]);
    expect(await tables(instances[0])).toEqual(
      expect.arrayContaining([
        'baton_migrations_state_store',
        'dead_letters',
        'executions',
        'history_events',
      ]),
    );
    expect(await pendingMigrations(instances[0])).toEqual([]);
  });

  it('match the entities exactly (no schema difference to generate)', async () => {
    const ds = await open();
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('revert and apply again', async () => {
    const ds = await open();
    expect(await revertLastMigration(ds)).toBe('DeadLetterStatus1796000000000');
    expect(await revertLastMigration(ds)).toBe('CreateStateStoreTables1795264300254');
    expect(await tables(ds)).toEqual(['baton_migrations_state_store']);
    expect(await pendingMigrations(ds)).toEqual(ALL);
    expect(await revertLastMigration(ds)).toBeUndefined();

    const again = await runMigrations(ds);
    expect(again.map((m) => m.name)).toEqual(ALL);
    expect(await tables(ds)).toEqual([
      'baton_migrations_state_store',
      'dead_letters',
      'executions',
      'history_events',
    ]);
    expect(await runMigrations(ds)).toEqual([]);
  });

  it('release the lock when a run fails, so the next run proceeds', async () => {
    const ds = await open();
    await revertLastMigration(ds);
    await revertLastMigration(ds);
    // A conflicting table makes the migration fail inside its transaction.
    await ds.query('CREATE TABLE executions (x int)');
    await expect(runMigrations(ds)).rejects.toThrow(/already exists/);
    await ds.query('DROP TABLE executions');
    expect((await runMigrations(ds)).map((m) => m.name)).toEqual(ALL);
  });

  it('time out naming the lock while another run holds it', async () => {
    const ds = await open();
    const holder = ds.createQueryRunner();
    await holder.startTransaction();
    await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [0x6261746f, 0x6d696772]);
    try {
      await expect(runMigrations(ds, { lockTimeoutMs: 200 })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringContaining('migration lock'),
      });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
  });
});
