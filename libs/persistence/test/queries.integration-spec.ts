import { createTestDatabase, type TestDatabase } from '@baton/testing';

import {
  type DataSource,
  DeadLetterRepository,
  ExecutionQueryRepository,
  HistoryWriter,
  STATE_STORE_PERSISTENCE,
  createDataSource,
  runMigrations,
} from '../src';
import { batch } from './fixtures';

describe('state-store queries', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let queries: ExecutionQueryRepository;
  let deadLetters: DeadLetterRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = createDataSource(db.url, { ...STATE_STORE_PERSISTENCE, poolSize: 4 });
    await ds.initialize();
    await runMigrations(ds);
    queries = new ExecutionQueryRepository(ds);
    deadLetters = new DeadLetterRepository(ds);
    const writer = new HistoryWriter(ds);
    const writes: Promise<void>[] = [];
    // 25 executions of wf-a sharing ONE start time (ties broken by id), 10 of wf-b, one per minute.
    for (let i = 0; i < 25; i++) {
      writes.push(
        writer.write(
          batch(`a-${String(i).padStart(2, '0')}`, 1, [1], { startedAt: '2026-02-01T00:00:00.000Z' }),
        ),
      );
    }
    for (let i = 0; i < 10; i++) {
      writes.push(
        writer.write(
          batch(`b-${i}`, 1, [1], {
            workflowId: 'wf-b',
            status: i % 2 === 0 ? 'COMPLETED' : 'FAILED',
            startedAt: new Date(Date.UTC(2026, 1, 2, 0, i)).toISOString(),
          }),
        ),
      );
    }
    // Sub-millisecond start times must page exactly too.
    writes.push(
      writer.write(batch('c-1', 1, [1], { workflowId: 'wf-c', startedAt: '2026-03-01T00:00:00.000001Z' })),
    );
    writes.push(
      writer.write(batch('c-2', 1, [1], { workflowId: 'wf-c', startedAt: '2026-03-01T00:00:00.000002Z' })),
    );
    writes.push(
      writer.write(batch('c-3', 1, [1], { workflowId: 'wf-c', startedAt: '2026-03-01T00:00:00.000002Z' })),
    );
    // A long history.
    writes.push(
      writer.write(
        batch(
          'h-1',
          1,
          Array.from({ length: 25 }, (_, i) => i + 1),
          { workflowId: 'wf-h' },
        ),
      ),
    );
    await Promise.all(writes);
    await writer.close();
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  async function all(query: Parameters<ExecutionQueryRepository['listExecutions']>[0]): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.listExecutions({ ...query, cursor });
      pages.push(page.items.map((e) => e.executionId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && pages.length < 100);
    return pages;
  }

  it('pages through equal start times without gaps or repeats', async () => {
    const pages = await all({ workflowId: 'wf-a', limit: 10 });
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const ids = pages.flat();
    const expected = Array.from({ length: 25 }, (_, i) => `a-${String(i).padStart(2, '0')}`).reverse();
    expect(ids).toEqual(expected);
  });

  it('pages exactly across microsecond start times', async () => {
    expect(await all({ workflowId: 'wf-c', limit: 1 })).toEqual([['c-3'], ['c-2'], ['c-1']]);
  });

  it('orders newest first and applies workflowId, status, from and to', async () => {
    const page = await queries.listExecutions({ workflowId: 'wf-b' });
    expect(page.items.map((e) => e.executionId)).toEqual([
      'b-9',
      'b-8',
      'b-7',
      'b-6',
      'b-5',
      'b-4',
      'b-3',
      'b-2',
      'b-1',
      'b-0',
    ]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[0]).toEqual({
      executionId: 'b-9',
      workflowId: 'wf-b',
      version: 1,
      status: 'FAILED',
      revision: 1,
      startedAt: '2026-02-02T00:09:00.000Z',
      updatedAt: '2026-01-01T00:00:01.000Z',
    });

    const failed = await queries.listExecutions({ status: 'FAILED' });
    expect(failed.items.map((e) => e.executionId)).toEqual(['b-9', 'b-7', 'b-5', 'b-3', 'b-1']);

    const window = await all({
      from: new Date('2026-02-02T00:03:00Z'),
      to: new Date('2026-02-02T00:06:00Z'),
      limit: 2,
    });
    expect(window).toEqual([['b-5', 'b-4'], ['b-3']]);
  });

  it('rejects bad parameters with BAD_REQUEST naming them', async () => {
    await expect(queries.listExecutions({ cursor: 'not a cursor!' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      details: [expect.objectContaining({ path: 'cursor' })],
    });
    const forged = Buffer.from(JSON.stringify({ t: 'x', id: 1 })).toString('base64url');
    await expect(queries.listExecutions({ cursor: forged })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining("'cursor'"),
    });
    await expect(queries.listExecutions({ limit: 501 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      details: [expect.objectContaining({ path: 'limit' })],
    });
    await expect(queries.listExecutions({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(queries.listExecutions({ status: 'DONE' as never })).rejects.toMatchObject({
      details: [expect.objectContaining({ path: 'status' })],
    });
    await expect(queries.listExecutions({ from: new Date('nope') })).rejects.toMatchObject({
      details: [expect.objectContaining({ path: 'from' })],
    });
    await expect(queries.getHistory('h-1', { afterSeq: -3 })).rejects.toMatchObject({
      details: [expect.objectContaining({ path: 'afterSeq' })],
    });
  });

  it('returns history in seq order, paged by afterSeq', async () => {
    const first = await queries.getHistory('h-1', { limit: 10 });
    expect(first?.items.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first?.nextAfterSeq).toBe(10);
    const last = await queries.getHistory('h-1', { afterSeq: 20, limit: 10 });
    expect(last?.items.map((e) => e.seq)).toEqual([21, 22, 23, 24, 25]);
    expect(last?.nextAfterSeq).toBeNull();
    expect(await queries.getHistory('h-1', { afterSeq: 25 })).toEqual({ items: [], nextAfterSeq: null });
    expect(await queries.getHistory('unknown')).toBeNull();
    expect(await queries.getExecution('unknown')).toBeNull();
  });

  describe('dead letters', () => {
    const record = (seq: number, overrides: Record<string, unknown> = {}) => ({
      stream: 'BATON_TASKS',
      consumer: 'task_inventory_reserve',
      subject: 'baton.tasks.inventory.reserve',
      streamSequence: seq,
      deliveries: 5,
      errorCode: 'VALIDATION_FAILED',
      error: 'bad input',
      deadAt: '2026-04-01T00:00:00.000Z',
      data: Buffer.from(JSON.stringify({ seq })).toString('base64'),
      headers: { 'Nats-Msg-Id': [`task:${seq}`] },
      ...overrides,
    });

    beforeAll(async () => {
      for (let seq = 1; seq <= 5; seq++) await deadLetters.record(record(seq));
      await deadLetters.record(
        record(1, { stream: 'BATON_ORCH', consumer: 'orchestrator', subject: 'baton.orch.start.wf' }),
      );
    });

    it('records idempotently and round-trips the payload', async () => {
      expect(await deadLetters.record(record(3))).toBe(false);
      const key = { stream: 'BATON_TASKS', consumer: 'task_inventory_reserve', streamSequence: 3 };
      const got = await deadLetters.get(key);
      expect(got).toEqual({ ...record(3), id: 'BATON_TASKS.task_inventory_reserve.3', status: 'DEAD' });
      expect(JSON.parse(Buffer.from(got?.data ?? '', 'base64').toString())).toEqual({ seq: 3 });
    });

    it('lists newest first with stream/consumer filters and paging', async () => {
      const pages: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await deadLetters.list({ stream: 'BATON_TASKS', limit: 2, cursor });
        pages.push(page.items.map((d) => d.streamSequence));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(pages).toEqual([[5, 4], [3, 2], [1]]);
      const orch = await deadLetters.list({ consumer: 'orchestrator' });
      expect(orch.items.map((d) => `${d.stream}#${d.streamSequence}`)).toEqual(['BATON_ORCH#1']);
    });

    it('keeps one dead letter per consumer of the same message', async () => {
      expect(await deadLetters.record(record(2, { consumer: 'task_audit' }))).toBe(true);
      const both = await deadLetters.list({
        stream: 'BATON_TASKS',
        subject: 'baton.tasks.inventory.reserve',
      });
      expect(both.items.filter((d) => d.streamSequence === 2).map((d) => d.consumer)).toEqual([
        'task_inventory_reserve',
        'task_audit',
      ]);
      const key = { stream: 'BATON_TASKS', consumer: 'task_audit', streamSequence: 2 };
      const settled = await deadLetters.settle(key, 'DISCARDED', { by: 'ops', reason: 'duplicate' });
      expect(settled).toMatchObject({ status: 'DISCARDED', resolvedBy: 'ops', reason: 'duplicate' });
      // Only a DEAD one settles.
      expect(await deadLetters.settle(key, 'REDRIVEN', { by: 'ops' })).toBeNull();
      expect((await deadLetters.list({ status: 'DISCARDED' })).items.map((d) => d.id)).toEqual([
        'BATON_TASKS.task_audit.2',
      ]);
    });

    it('hides resolved dead letters unless asked', async () => {
      const [resolved] = await deadLetters.resolve('BATON_TASKS', 4, 'ops');
      expect(resolved?.resolvedAt).toEqual(expect.any(String));
      expect(resolved?.status).toBe('DISCARDED');
      expect((await deadLetters.list({ stream: 'BATON_TASKS' })).items.map((d) => d.streamSequence)).toEqual([
        5, 3, 2, 1,
      ]);
      expect(
        (await deadLetters.list({ stream: 'BATON_TASKS', includeResolved: true })).items.map(
          (d) => d.streamSequence,
        ),
      ).toEqual([5, 4, 3, 2, 1, 2]);
      expect(await deadLetters.resolve('BATON_TASKS', 99, 'ops')).toEqual([]);
    });

    it('rejects a malformed record as non-retryable', async () => {
      await expect(deadLetters.record(record(6, { data: '***', deliveries: -1 }))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        retryable: false,
        details: [
          expect.objectContaining({ path: '/deliveries' }),
          expect.objectContaining({ path: '/data' }),
        ],
      });
    });
  });
});
