import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from 'pg';

import { getFreePort } from './free-port';
import { waitFor } from './wait-for';

/** Where the PostgreSQL 15 binaries (`initdb`, `pg_ctl`) are. */
export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** OS user that owns and runs a private cluster when the test runs as root (PostgreSQL refuses root). */
const POSTGRES_OS_USER = 'postgres';

const run = promisify(execFile);

/** A private PostgreSQL cluster started by {@link startPostgresCluster}, owned by the test that started it. */
export interface PostgresClusterHandle {
  /** Client port on 127.0.0.1. */
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth): pass to `createTestDatabase`. */
  adminUrl: string;
  /** Data directory (kept across stop/start). */
  dataDir: string;
  /** Whether the server is running (as far as this handle knows). */
  readonly running: boolean;
  /** `pg_ctl start` on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl stop -m fast` (clean shutdown: sessions are disconnected). No-op when stopped. */
  stop(): Promise<void>;
  /** `pg_ctl stop -m immediate` (a crash: the next start runs recovery). No-op when stopped. */
  kill(): Promise<void>;
  /** Stop (fast) and start again on the same port. */
  restart(): Promise<void>;
  /** Stop (immediate) and remove the whole directory. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** Options of {@link startPostgresCluster}. */
export interface PostgresClusterOptions {
  /** `max_connections` of the cluster (default 200). */
  maxConnections?: number;
}

/**
 * `initdb` a fresh cluster in a temporary directory (trust auth, superuser `postgres`) and start it with
 * `pg_ctl` on a free port of 127.0.0.1, so a test can stop, crash and restart PostgreSQL without touching
 * the shared one. Runs the binaries as the `postgres` OS user when the test runs as root. If the test
 * process dies without cleaning up, a watchdog stops the cluster and removes its directory.
 */
export async function startPostgresCluster(
  opts: PostgresClusterOptions = {},
): Promise<PostgresClusterHandle> {
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'baton-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (asRoot) {
    const { stdout } = await run('id', ['-u', POSTGRES_OS_USER]);
    const { stdout: gid } = await run('id', ['-g', POSTGRES_OS_USER]);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg = (binary: string, args: string[]) => {
    const file = join(POSTGRES_BIN_DIR, binary);
    return asRoot
      ? run('runuser', ['-u', POSTGRES_OS_USER, '--', file, ...args], { cwd: dir })
      : run(file, args, { cwd: dir });
  };
  try {
    await pg('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await getFreePort();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  // fsync off: a crash of the server process (not of the OS) keeps what was written, so commits survive
  // `kill()`; synchronous_commit stays on, or a crash could lose acknowledged commits.
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    `-c max_connections=${opts.maxConnections ?? 200}`,
    '-c fsync=off',
    '-c full_page_writes=off',
  ].join(' ');
  let running = false;
  let cleanedUp = false;

  const accepts = async (): Promise<boolean> => {
    const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const stopWith = async (mode: 'fast' | 'immediate'): Promise<void> => {
    if (!existsSync(join(dataDir, 'postmaster.pid'))) {
      running = false;
      return;
    }
    await pg('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  };

  const handle: PostgresClusterHandle = {
    port,
    adminUrl,
    dataDir,
    get running() {
      return running;
    },
    async start() {
      if (cleanedUp) throw new Error('start() after cleanup()');
      await pg('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
      running = true;
      await waitFor(accepts, { timeoutMs: 60_000, intervalMs: 100, what: `PostgreSQL on port ${port}` });
    },
    stop: () => stopWith('fast'),
    kill: () => stopWith('immediate'),
    async restart() {
      await stopWith('fast');
      await handle.start();
    },
    async cleanup() {
      if (cleanedUp) return;
      cleanedUp = true;
      await stopWith('immediate').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await handle.start();
  } catch (err) {
    await handle.cleanup();
    throw err;
  }
  spawnWatchdog(dir, dataDir, asRoot);
  return handle;
}

/** Stops the cluster and removes its directory once the test process is gone (a killed Jest worker). */
function spawnWatchdog(dir: string, dataDir: string, asRoot: boolean): void {
  const pgCtl = `${asRoot ? `runuser -u ${POSTGRES_OS_USER} -- ` : ''}${join(POSTGRES_BIN_DIR, 'pg_ctl')}`;
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    `if [ -f '${dataDir}/postmaster.pid' ]; then ${pgCtl} -D '${dataDir}' -m immediate stop >/dev/null 2>&1; fi; ` +
    `rm -rf -- '${dir}'`;
  const watchdog = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  watchdog.unref();
}
