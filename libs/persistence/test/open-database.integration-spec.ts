import { createTestDatabase, getFreePort } from '@baton/testing';
import type { TestDatabase } from '@baton/testing';

import { STATE_STORE_PERSISTENCE, openDatabase, probeDatabase, redactDatabaseUrl } from '../src';

describe('openDatabase', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('connects, migrates once, and answers the readiness probe', async () => {
    const logs: string[] = [];
    const logger = { log: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };
    const first = await openDatabase(db.url, STATE_STORE_PERSISTENCE, { startupTimeoutMs: 5_000, logger });
    await expect(probeDatabase(first)).resolves.toBeUndefined();
    expect(logs.some((l) => l.startsWith('migrations applied'))).toBe(true);
    const second = await openDatabase(db.url, STATE_STORE_PERSISTENCE, { startupTimeoutMs: 5_000, logger });
    expect(logs.filter((l) => l.startsWith('migrations applied'))).toHaveLength(1);
    await first.destroy();
    await second.destroy();
  });

  it('gives up after the startup timeout with UNAVAILABLE and a redacted URL', async () => {
    const port = await getFreePort();
    const url = `postgres://baton:s3cret@127.0.0.1:${port}/nowhere`;
    const warnings: string[] = [];
    const attempt = openDatabase(url, STATE_STORE_PERSISTENCE, {
      startupTimeoutMs: 400,
      logger: { log: () => undefined, warn: (m) => warnings.push(m) },
    });
    await expect(attempt).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const error = (await attempt.catch((err: unknown) => err)) as Error;
    expect(error.message).toContain('baton:***@');
    expect(error.message).not.toContain('s3cret');
    expect(warnings.length).toBeGreaterThan(0);
  });

  it('redacts passwords in URLs anywhere in a text', () => {
    expect(redactDatabaseUrl('x postgres://a:b@h/d y postgres://c:d@e/f')).toBe(
      'x postgres://a:***@h/d y postgres://c:***@e/f',
    );
  });
});
