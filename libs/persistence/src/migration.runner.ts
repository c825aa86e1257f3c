import { type DataSource, type Migration, MigrationExecutor, type QueryRunner } from 'typeorm';

import { BatonError, ErrorCode } from '@baton/contracts';

/**
 * Key of the PostgreSQL advisory lock that serializes migration runs (two-int form, class and object):
 * 0x6261746f = "bato", 0x6d696772 = "migr". Every owner's runs share it.
 */
export const MIGRATION_LOCK_KEY: readonly [number, number] = [0x6261746f, 0x6d696772];

/** Options of {@link runMigrations} and {@link revertLastMigration}. */
export interface MigrationRunOptions {
  /** Give up waiting for another instance's run after this long (default 60000 ms). */
  lockTimeoutMs?: number;
  /** Record migrations as executed (or reverted) without running them. */
  fake?: boolean;
}

/**
 * Runs `fn` in one transaction holding the migration advisory lock (transaction-scoped, so it can
 * never outlive the transaction, even when the connection dies).
 */
async function withMigrationLock<T>(
  ds: DataSource,
  opts: MigrationRunOptions,
  fn: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  const lockTimeoutMs = opts.lockTimeoutMs ?? 60_000;
  const runner = ds.createQueryRunner();
  try {
    await runner.startTransaction();
    try {
      await runner.query(`SELECT set_config('lock_timeout', $1, true)`, [`${lockTimeoutMs}ms`]);
      try {
        await runner.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK_KEY]);
      } catch (err) {
        throw new BatonError(
          ErrorCode.UNAVAILABLE,
          `migration lock not acquired within ${lockTimeoutMs} ms (another instance is migrating)`,
          { cause: err },
        );
      }
      // Migrations themselves run without the lock wait bound.
      await runner.query(`SELECT set_config('lock_timeout', '0', true)`);
      const result = await fn(runner);
      await runner.commitTransaction();
      return result;
    } catch (err) {
      if (runner.isTransactionActive) {
        await runner.rollbackTransaction().catch(() => undefined);
      }
      throw err;
    }
  } finally {
    await runner.release();
  }
}

function executorFor(ds: DataSource, runner: QueryRunner, fake: boolean): MigrationExecutor {
  const executor = new MigrationExecutor(ds, runner);
  // Our transaction wraps the whole run: every pending migration applies, or none does.
  executor.transaction = 'all';
  executor.fake = fake;
  return executor;
}

/**
 * Applies the pending migrations of `ds` in one transaction under a PostgreSQL advisory lock, so
 * several instances starting at once are safe: one migrates, the others wait and then find nothing
 * pending. Returns the migrations applied (empty when none were pending). `ds` must be initialized.
 */
export async function runMigrations(ds: DataSource, opts: MigrationRunOptions = {}): Promise<Migration[]> {
  return withMigrationLock(ds, opts, (runner) =>
    executorFor(ds, runner, opts.fake ?? false).executePendingMigrations(),
  );
}

/**
 * Reverts the most recently executed migration of `ds` under the same advisory lock. Returns the name
 * of the reverted migration, or `undefined` when none was executed.
 */
export async function revertLastMigration(
  ds: DataSource,
  opts: MigrationRunOptions = {},
): Promise<string | undefined> {
  return withMigrationLock(ds, opts, async (runner) => {
    const executor = executorFor(ds, runner, opts.fake ?? false);
    const executed = await executor.getExecutedMigrations();
    if (executed.length === 0) return undefined;
    const last = [...executed].sort((a, b) => (b.id ?? 0) - (a.id ?? 0))[0];
    await executor.undoLastMigration();
    return last.name;
  });
}

/** Names of the migrations of `ds` not yet applied. */
export async function pendingMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  try {
    const pending = await new MigrationExecutor(ds, runner).getPendingMigrations();
    return pending.map((m) => m.name);
  } finally {
    await runner.release();
  }
}
