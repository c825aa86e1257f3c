import { DataSource, type Migration } from 'typeorm';

import { revertLastMigration, runMigrations } from './migration.runner';
import type { ClassType } from './persistence-scope';

/** Options of {@link createDataSource}. */
export interface CreateDataSourceOptions {
  /** Entity classes (an owner's `*_PERSISTENCE.entities`). */
  entities?: readonly ClassType[];
  /** Migration classes, in any order (TypeORM orders them by the timestamp in their class name). */
  migrations?: readonly ClassType[];
  /** Table recording executed migrations; one per owner so owners sharing a database stay independent. */
  migrationsTableName?: string;
  /** Owner name, used as the default `application_name` (`baton-<name>`). */
  name?: string;
  /** Largest number of pooled connections (default 10). */
  poolSize?: number;
  /** `application_name` shown in `pg_stat_activity` (default `baton-<name>` or `baton`). */
  applicationName?: string;
  /** Server-side `statement_timeout` in ms for every pooled connection (default 20000; 0 disables). */
  statementTimeoutMs?: number;
  /** Time allowed to open a connection, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Log SQL through TypeORM's console logger (default false). */
  logging?: boolean;
}

/**
 * A TypeORM DataSource whose `runMigrations` / `undoLastMigration` (used by the `typeorm` CLI) take
 * the same advisory lock as {@link runMigrations}, so CLI runs and starting services never race.
 */
class BatonDataSource extends DataSource {
  override async runMigrations(options?: {
    transaction?: 'all' | 'none' | 'each';
    fake?: boolean;
  }): Promise<Migration[]> {
    return runMigrations(this, { fake: options?.fake });
  }

  override async undoLastMigration(options?: {
    transaction?: 'all' | 'none' | 'each';
    fake?: boolean;
  }): Promise<void> {
    await revertLastMigration(this, { fake: options?.fake });
  }
}

/**
 * Creates (does not initialize) a PostgreSQL DataSource for `url`. `synchronize` is always off: the
 * schema changes only through migrations. Call `await ds.initialize()` before use and
 * `await ds.destroy()` on shutdown.
 */
export function createDataSource(url: string, opts: CreateDataSourceOptions = {}): DataSource {
  const statementTimeoutMs = opts.statementTimeoutMs ?? 20_000;
  return new BatonDataSource({
    type: 'postgres',
    url,
    entities: [...(opts.entities ?? [])],
    migrations: [...(opts.migrations ?? [])],
    migrationsTableName: opts.migrationsTableName ?? 'baton_migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    migrationsRun: false,
    poolSize: opts.poolSize ?? 10,
    applicationName: opts.applicationName ?? (opts.name === undefined ? 'baton' : `baton-${opts.name}`),
    connectTimeoutMS: opts.connectTimeoutMs ?? 5_000,
    logging: opts.logging ?? false,
    extra: statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {},
  });
}
