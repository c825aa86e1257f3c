import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

/** The shared PostgreSQL's maintenance database (trust auth, user postgres). */
export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Options of {@link createTestDatabase}. */
export interface TestDatabaseOptions {
  /** Connection to a database from which `CREATE DATABASE` may be run (default {@link DEFAULT_ADMIN_URL}). */
  adminUrl?: string;
}

/** A database created for one test run. */
export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string;
  /** `baton_test_<random>`. */
  name: string;
  /** Terminates its connections and drops it. Safe to call twice. */
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database `baton_test_<random>` on the shared PostgreSQL for one test run.
 * Call `drop()` when done (typically in `afterAll`).
 */
export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? DEFAULT_ADMIN_URL;
  const name = `baton_test_${randomBytes(6).toString('hex')}`;
  // The name is generated here from [a-z0-9_]: safe to splice into DDL, which takes no parameters.
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      await withAdmin(adminUrl, async (client) => {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      dropped = true;
    },
  };
}
