import { createTestDatabase, type TestDatabase, waitFor } from '@baton/testing';

import {
  type DataSource,
  ExecutionQueryRepository,
  type HistoryGroupReport,
  HistoryWriter,
  STATE_STORE_PERSISTENCE,
  createDataSource,
  runMigrations,
} from '../src';
import { batch } from './fixtures';
import { startTcpProxy } from './tcp-proxy';

describe('HistoryWriter', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let queries: ExecutionQueryRepository;
  const writers: HistoryWriter[] = [];

  const writer = (opts: ConstructorParameters<typeof HistoryWriter>[1] = {}): HistoryWriter => {
    const w = new HistoryWriter(ds, opts);
    writers.push(w);
    return w;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = createDataSource(db.url, { ...STATE_STORE_PERSISTENCE, poolSize: 4 });
    await ds.initialize();
    await runMigrations(ds);
    queries = new ExecutionQueryRepository(ds);
  });

  afterAll(async () => {
    for (const w of writers) await w.close();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('writes the summary and the events', async () => {
    const w = writer();
    await w.write(batch('e-basic', 1, [1]));
    await w.write(
      batch('e-basic', 2, [2, 3], {
        status: 'COMPLETED',
        finishedAt: '2026-01-01T00:01:00.000Z',
        output: { ok: true },
      }),
    );
    const exec = await queries.getExecution('e-basic');
    expect(exec).toMatchObject({
      executionId: 'e-basic',
      workflowId: 'wf-a',
      version: 1,
      revision: 2,
      status: 'COMPLETED',
      input: { orderId: 'e-basic' },
      output: { ok: true },
      finishedAt: '2026-01-01T00:01:00.000Z',
      steps: { 'step-2': { status: 'COMPLETED', attempt: 1 } },
    });
    const history = await queries.getHistory('e-basic');
    expect(history?.items.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(history?.items[1]).toEqual({
      seq: 2,
      type: 'StepCompleted',
      at: '2026-01-01T00:00:02.000Z',
      stepId: 'step-2',
      attempt: 1,
      status: 'COMPLETED',
      data: { n: 2 },
    });
  });

  it('is idempotent under duplicates and never rolls the summary back on a late older batch', async () => {
    const w = writer();
    const b1 = batch('e-dup', 1, [1]);
    const b2 = batch('e-dup', 2, [2], { status: 'WAITING' });
    const b3 = batch('e-dup', 3, [3], { status: 'COMPLETED' });
    // Out of order, with duplicates, some in the same group and some not.
    await Promise.all([w.write(b3), w.write(b1), w.write(b3)]);
    await w.write(b1);
    await w.write(b2); // late and older than b3
    await Promise.all([w.write(b2), w.write(b1)]);

    const exec = await queries.getExecution('e-dup');
    expect(exec?.revision).toBe(3);
    expect(exec?.status).toBe('COMPLETED');
    expect(exec?.steps).toEqual({ 'step-3': { status: 'COMPLETED', attempt: 1 } });
    const history = await queries.getHistory('e-dup');
    expect(history?.items.map((e) => e.seq)).toEqual([1, 2, 3]);
    const [{ count }] = await ds.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM history_events WHERE execution_id = 'e-dup'`,
    );
    expect(count).toBe(3);
  });

  it('keeps the highest revision when one group holds several batches of one execution', async () => {
    const reports: HistoryGroupReport[] = [];
    const w2 = writer({ maxDelayMs: 50, onGroup: (r) => reports.push(r) });
    await Promise.all(
      [5, 2, 4, 1, 3].map((rev) =>
        w2.write(batch('e-group', rev, [rev], { status: rev === 5 ? 'COMPLETED' : 'RUNNING' })),
      ),
    );
    expect(reports).toEqual([expect.objectContaining({ size: 5, outcome: 'committed' })]);
    const exec = await queries.getExecution('e-group');
    expect(exec).toMatchObject({ revision: 5, status: 'COMPLETED' });
    expect((await queries.getHistory('e-group'))?.items.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('group-commits many concurrent writes in few transactions, each resolving after its commit', async () => {
    const reports: HistoryGroupReport[] = [];
    const w = writer({
      maxGroupSize: 50,
      maxDelayMs: 20,
      maxConcurrentGroups: 2,
      onGroup: (r) => reports.push(r),
    });
    const n = 300;
    const writes = Array.from({ length: n }, (_, i) =>
      w.write(batch(`e-many-${String(i).padStart(3, '0')}`, 1, [1, 2])).then(async () => {
        // Resolved only once durable: the row is visible to another connection right away.
        const rows = await ds.query<unknown[]>('SELECT revision FROM executions WHERE id = $1', [
          `e-many-${String(i).padStart(3, '0')}`,
        ]);
        return rows.length;
      }),
    );
    const visible = await Promise.all(writes);
    expect(visible.every((v) => v === 1)).toBe(true);
    expect(reports.reduce((sum, r) => sum + r.size, 0)).toBe(n);
    expect(reports.every((r) => r.outcome === 'committed' && r.size <= 50)).toBe(true);
    // Grouped: far fewer transactions than batches.
    expect(reports.length).toBeLessThanOrEqual(n / 10);
    const [{ count }] = await ds.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM history_events WHERE execution_id LIKE 'e-many-%'`,
    );
    expect(count).toBe(2 * n);
  });

  it('isolates a batch the database rejects as data; the rest of its group commits', async () => {
    const reports: HistoryGroupReport[] = [];
    const w = writer({ maxDelayMs: 50, onGroup: (r) => reports.push(r) });
    const good = ['e-iso-1', 'e-iso-2', 'e-iso-3'].map((id) => w.write(batch(id, 1, [1, 2])));
    // PostgreSQL's jsonb cannot hold U+0000: a data error (SQLSTATE 22P05) for this batch only.
    const bad = w.write(batch('e-iso-bad', 1, [1, 2], { output: { text: 'nul \u0000 inside' } }));
    const results = await Promise.allSettled([...good, bad]);
    expect(results.slice(0, 3).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const rejected = results[3] as PromiseRejectedResult;
    expect(rejected.status).toBe('rejected');
    expect(rejected.reason).toMatchObject({
      name: 'BatonError',
      code: 'VALIDATION_FAILED',
      retryable: false,
    });
    expect(rejected.reason.message).toContain('e-iso-bad');
    expect(reports).toEqual([expect.objectContaining({ size: 4, outcome: 'isolated' })]);
    for (const id of ['e-iso-1', 'e-iso-2', 'e-iso-3']) expect(await queries.getExecution(id)).not.toBeNull();
    expect(await queries.getExecution('e-iso-bad')).toBeNull();
  });

  it('writes a batch atomically: an event the database rejects leaves its execution row unwritten too', async () => {
    const w = writer({ maxDelayMs: 1 });
    const good = batch('e-atomic', 1, [1, 2]);
    const bad: typeof good = {
      ...good,
      events: good.events.map((e) => (e.seq === 2 ? { ...e, data: { text: 'nul \u0000 inside' } } : e)),
    };
    await expect(w.write(bad)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
    expect(await queries.getExecution('e-atomic')).toBeNull();
    await w.write(good);
    expect(await queries.getExecution('e-atomic')).toMatchObject({ executionId: 'e-atomic', revision: 1 });
  });

  it('rejects a malformed batch as non-retryable without touching the database', async () => {
    const w = writer();
    await expect(
      w.write({ executionId: 'e-x', revision: 'one', events: [{ seq: -1 }] }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
      details: expect.arrayContaining([
        expect.objectContaining({ path: '/revision' }),
        expect.objectContaining({ path: '/workflowId' }),
        expect.objectContaining({ path: '/events/0/seq' }),
      ]),
    });
  });

  it('rejects as retryable (UNAVAILABLE) while the database is unreachable, and writes once it is back', async () => {
    const proxy = await startTcpProxy(Number(new URL(db.url).port || 5432));
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const viaProxy = createDataSource(url.toString(), {
      ...STATE_STORE_PERSISTENCE,
      poolSize: 2,
      connectTimeoutMs: 2000,
    });
    await viaProxy.initialize();
    const reports: HistoryGroupReport[] = [];
    const w = new HistoryWriter(viaProxy, { maxDelayMs: 20, onGroup: (r) => reports.push(r) });
    try {
      await w.write(batch('e-down-0', 1, [1]));
      await proxy.down();
      const results = await Promise.allSettled(
        ['e-down-1', 'e-down-2', 'e-down-3'].map((id) => w.write(batch(id, 1, [1]))),
      );
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      }
      // The whole group failed at once: no one-by-one isolation against a database that is away.
      expect(reports[reports.length - 1]).toMatchObject({ size: 3, outcome: 'failed' });
      expect(await queries.getExecution('e-down-1')).toBeNull();

      await proxy.up();
      // Redelivery after the outage succeeds.
      await waitFor(() => w.write(batch('e-down-1', 1, [1])).then(() => true), {
        what: 'a write after the outage',
      });
      expect(await queries.getExecution('e-down-1')).toMatchObject({ revision: 1 });
    } finally {
      await w.close();
      await proxy.down();
      await viaProxy.destroy();
    }
  });
});
