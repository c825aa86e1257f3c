import type { DataSource } from 'typeorm';

import { type HistoryGroupReport, HistoryWriter } from './history.writer';

const batch = (id: string, revision = 1): Record<string, unknown> => ({
  protocol: 1,
  executionId: id,
  workflowId: 'wf',
  version: 1,
  revision,
  status: 'RUNNING',
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  steps: {},
  events: [{ seq: revision, type: 'StepCompleted', at: '2026-01-01T00:00:00.000Z' }],
});

/** A DataSource double: records each group's execution ids (one statement each); `fail` decides errors per group. */
class FakeDataSource {
  readonly transactions: string[][] = [];
  readonly revisions: Record<string, number>[] = [];
  open = 0;
  maxOpen = 0;
  private gates: (() => void)[] = [];
  hold = false;
  fail: (ids: string[]) => Error | undefined = () => undefined;

  release(): void {
    const gates = this.gates;
    this.gates = [];
    for (const g of gates) g();
  }

  /** One statement: the writer's whole group (executions in $1, events in $2). */
  async query(sql: string, params: unknown[]): Promise<unknown> {
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    try {
      if (this.hold) await new Promise<void>((resolve) => this.gates.push(resolve));
      if (!sql.includes('INSERT INTO executions') || !sql.includes('INSERT INTO history_events')) {
        throw new Error('expected one statement writing executions and history_events');
      }
      const rows = JSON.parse(params[0] as string) as { id: string; revision: number }[];
      const ids = rows.map((r) => r.id);
      this.revisions.push(Object.fromEntries(rows.map((r) => [r.id, r.revision])));
      const err = this.fail(ids);
      if (err !== undefined) throw err;
      this.transactions.push(ids);
      return [];
    } finally {
      this.open--;
    }
  }
}

const pgError = (code: string): Error => Object.assign(new Error(`pg ${code}`), { code });
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('HistoryWriter (grouping, with a fake database)', () => {
  it('writes batches arriving together in one transaction, up to maxGroupSize', async () => {
    const fake = new FakeDataSource();
    const reports: HistoryGroupReport[] = [];
    const w = new HistoryWriter(fake as unknown as DataSource, {
      maxGroupSize: 4,
      maxDelayMs: 1000,
      onGroup: (r) => reports.push(r),
    });
    // Four fill a group at once (no waiting for the delay); the fifth goes in a group of its own.
    const writes = ['a', 'b', 'c', 'd', 'e'].map((id) => w.write(batch(id)));
    await Promise.all(writes);
    await w.close();
    expect(fake.transactions).toEqual([['a', 'b', 'c', 'd'], ['e']]);
    expect(reports.map((r) => [r.size, r.outcome])).toEqual([
      [4, 'committed'],
      [1, 'committed'],
    ]);
  });

  it('sends one row per execution in a group: the highest revision', async () => {
    const fake = new FakeDataSource();
    const w = new HistoryWriter(fake as unknown as DataSource, { maxDelayMs: 1 });
    await Promise.all([
      w.write(batch('z', 1)),
      w.write(batch('a', 1)),
      w.write(batch('z', 3)),
      w.write(batch('z', 2)),
    ]);
    expect(fake.transactions).toEqual([['z', 'a']]);
    expect(fake.revisions).toEqual([{ z: 3, a: 1 }]);
    await w.close();
  });

  it('runs at most maxConcurrentGroups transactions and groups what queues meanwhile', async () => {
    const fake = new FakeDataSource();
    fake.hold = true;
    const w = new HistoryWriter(fake as unknown as DataSource, {
      maxGroupSize: 2,
      maxDelayMs: 1000,
      maxConcurrentGroups: 2,
    });
    const writes = Array.from({ length: 9 }, (_, i) => w.write(batch(`e${i}`)));
    await flush();
    expect(fake.open).toBe(2);
    fake.hold = false;
    fake.release();
    await Promise.all(writes.slice(0, 8));
    expect(fake.maxOpen).toBe(2);
    expect(fake.transactions.slice(0, 4)).toEqual([
      ['e0', 'e1'],
      ['e2', 'e3'],
      ['e4', 'e5'],
      ['e6', 'e7'],
    ]);
    await w.close();
    await writes[8];
  });

  it('bounds a group by the size of its rows; a batch above the bound is written alone', async () => {
    const fake = new FakeDataSource();
    const sized = (id: string, chars: number) => ({ ...batch(id), input: 'x'.repeat(chars) });
    const w = new HistoryWriter(fake as unknown as DataSource, {
      maxGroupBytes: 10_000,
      maxDelayMs: 1000,
      maxConcurrentGroups: 1,
    });
    // Three batches of ~4.3 KB pass the bound: no waiting for the delay; two fit in a group.
    await Promise.all([
      w.write(sized('a', 4000)),
      w.write(sized('b', 4000)),
      w.write(sized('c', 4000)),
      w.write(sized('d', 20_000)),
    ]);
    expect(fake.transactions).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it('resolves no caller before its transaction commits', async () => {
    const fake = new FakeDataSource();
    fake.hold = true;
    const w = new HistoryWriter(fake as unknown as DataSource, { maxDelayMs: 0 });
    let resolved = false;
    const p = w.write(batch('a')).then(() => (resolved = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fake.open).toBe(1);
    expect(resolved).toBe(false);
    fake.release();
    await p;
    expect(resolved).toBe(true);
  });

  it('isolates a data error: retries one by one, rejects only the bad batch as non-retryable', async () => {
    const fake = new FakeDataSource();
    fake.fail = (ids) => (ids.includes('bad') ? pgError('22P05') : undefined);
    const reports: HistoryGroupReport[] = [];
    const w = new HistoryWriter(fake as unknown as DataSource, {
      maxDelayMs: 1,
      onGroup: (r) => reports.push(r),
    });
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((id) => w.write(batch(id))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
    });
    expect(fake.transactions).toEqual([['a'], ['c']]);
    expect(reports).toEqual([expect.objectContaining({ size: 3, outcome: 'isolated' })]);
  });

  it('rejects the whole group as retryable when the database is unavailable, without isolating', async () => {
    const fake = new FakeDataSource();
    let calls = 0;
    fake.fail = () => {
      calls++;
      return pgError('ECONNREFUSED');
    };
    const reports: HistoryGroupReport[] = [];
    const w = new HistoryWriter(fake as unknown as DataSource, {
      maxDelayMs: 1,
      onGroup: (r) => reports.push(r),
    });
    const results = await Promise.allSettled(['a', 'b', 'c'].map((id) => w.write(batch(id))));
    for (const r of results) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    }
    expect(calls).toBe(1);
    expect(reports).toEqual([expect.objectContaining({ size: 3, outcome: 'failed' })]);
  });

  it('stops isolating when the database goes away midway: the rest stay retryable', async () => {
    const fake = new FakeDataSource();
    let n = 0;
    fake.fail = () => (++n === 1 ? pgError('23502') : pgError('57P01'));
    const w = new HistoryWriter(fake as unknown as DataSource, { maxDelayMs: 1 });
    const results = await Promise.allSettled(['a', 'b', 'c'].map((id) => w.write(batch(id))));
    expect(results.map((r) => (r as PromiseRejectedResult).reason?.retryable)).toEqual([true, true, true]);
    expect(n).toBe(2);
  });

  it('rejects writes after close as retryable', async () => {
    const w = new HistoryWriter(new FakeDataSource() as unknown as DataSource);
    await w.close();
    await expect(w.write(batch('a'))).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
