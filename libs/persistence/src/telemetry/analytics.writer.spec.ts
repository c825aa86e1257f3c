import type { DataSource } from 'typeorm';

import type { HistoryBatch } from '@baton/contracts';

import { AnalyticsOutcome, AnalyticsWriter } from './analytics.writer';

const pgError = (code: string): Error => Object.assign(new Error(`pg ${code}`), { code });

function finishedBatch(executionId: string, revision = 2): HistoryBatch {
  return {
    protocol: 1,
    executionId,
    workflowId: 'wf',
    version: 1,
    revision,
    status: 'COMPLETED',
    startedAt: '2026-06-01T00:00:00.000Z',
    updatedAt: '2026-06-01T00:00:01.000Z',
    finishedAt: '2026-06-01T00:00:01.000Z',
    steps: {},
    events: [{ seq: 3, type: 'ExecutionCompleted', at: '2026-06-01T00:00:01.000Z', status: 'COMPLETED' }],
  };
}

/**
 * A DataSource that records the groups it is asked to write (one statement each); `fail(executionIds)`
 * decides whether the statement for those executions throws (and with what).
 */
function fakeDataSource(fail: (executionIds: string[]) => Error | undefined) {
  const transactions: string[][] = [];
  const committed: string[] = [];
  const ds = {
    query: (sql: string, params: string[]) => {
      if (!sql.includes('telemetry_processed_batches')) return Promise.reject(new Error(`unexpected ${sql}`));
      const keys = JSON.parse(params[0]) as { execution_id: string; revision: number }[];
      const ids = keys.map((k) => k.execution_id);
      transactions.push(ids);
      const err = fail(ids);
      if (err) return Promise.reject(err);
      committed.push(...ids);
      return Promise.resolve(keys);
    },
  } as unknown as DataSource;
  return { ds, transactions, committed };
}

describe('AnalyticsWriter (fake database)', () => {
  it('groups batches arriving together into one transaction and ignores batches without counts', async () => {
    const { ds, transactions } = fakeDataSource(() => undefined);
    const writer = new AnalyticsWriter(ds, { maxDelayMs: 20, maxGroupSize: 10 });
    const results = await Promise.all([
      writer.write(finishedBatch('a')),
      writer.write(finishedBatch('b')),
      writer.write({ ...finishedBatch('c'), events: [] }),
    ]);
    expect(results).toEqual([AnalyticsOutcome.COUNTED, AnalyticsOutcome.COUNTED, AnalyticsOutcome.IGNORED]);
    expect(transactions).toEqual([['a', 'b']]);
    await writer.close();
  });

  it('isolates a batch the database rejects as data; the others of its group still commit', async () => {
    const { ds, committed } = fakeDataSource((ids) => (ids.includes('bad') ? pgError('22P05') : undefined));
    const writer = new AnalyticsWriter(ds, { maxDelayMs: 20 });
    const results = await Promise.allSettled([
      writer.write(finishedBatch('ok-1')),
      writer.write(finishedBatch('bad')),
      writer.write(finishedBatch('ok-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
    });
    expect(committed).toEqual(['ok-1', 'ok-2']);
  });

  it('rejects the whole group retryably when the database is unavailable', async () => {
    const { ds, transactions } = fakeDataSource(() => pgError('57P01'));
    const writer = new AnalyticsWriter(ds, { maxDelayMs: 20 });
    const results = await Promise.allSettled([
      writer.write(finishedBatch('x')),
      writer.write(finishedBatch('y')),
    ]);
    for (const r of results) {
      expect(r).toMatchObject({ status: 'rejected', reason: { code: 'UNAVAILABLE', retryable: true } });
    }
    expect(transactions).toHaveLength(1);
  });

  it('rejects invalid batches without touching the database, and everything once closed', async () => {
    const { ds, transactions } = fakeDataSource(() => undefined);
    const writer = new AnalyticsWriter(ds);
    await expect(writer.write({ executionId: 'x' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await writer.close();
    await expect(writer.write(finishedBatch('late'))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(transactions).toEqual([]);
  });
});
