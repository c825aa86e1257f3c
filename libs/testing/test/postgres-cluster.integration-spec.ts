import { existsSync } from 'node:fs';

import { Client } from 'pg';

import { createTestDatabase, startPostgresCluster } from '../src';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('startPostgresCluster', () => {
  it('runs a private cluster whose data survives a fast stop and a crash, then removes it', async () => {
    const pg = await startPostgresCluster();
    try {
      expect(pg.adminUrl).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
      expect(pg.port).not.toBe(5432);
      const db = await createTestDatabase({ adminUrl: pg.adminUrl });
      await query(db.url, 'CREATE TABLE t (n int); INSERT INTO t VALUES (1)');

      await pg.stop();
      expect(pg.running).toBe(false);
      await expect(query(db.url, 'SELECT 1')).rejects.toThrow();
      await pg.start();
      await query(db.url, 'INSERT INTO t VALUES (2)');

      await pg.kill();
      await pg.restart();
      const rows = await query<{ n: number }>(db.url, 'SELECT n FROM t ORDER BY n');
      expect(rows.map((r) => r.n)).toEqual([1, 2]);
      await db.drop();
    } finally {
      await pg.cleanup();
    }
    expect(existsSync(pg.dataDir)).toBe(false);
    await pg.cleanup();
  });
});
