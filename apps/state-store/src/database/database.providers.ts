import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';

import { BatonError, ErrorCode } from '@baton/contracts';
import {
  type DataSource,
  DatabaseErrorKind,
  DeadLetterRepository,
  ExecutionQueryRepository,
  HistoryWriter,
  STATE_STORE_PERSISTENCE,
  classifyDatabaseError,
  createDataSource,
  runMigrations,
} from '@baton/persistence';
import { BATON_CONFIG, ReadinessRegistry } from '@baton/service-kit';

import type { StateStoreConfig } from '../config/state-store.config';
import { StateStoreMetrics } from '../state-store.metrics';

const PROBE_TIMEOUT_MS = 2_000;

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}

function messageOf(err: unknown): string {
  return redact(err instanceof Error ? err.message || String(err) : String(err));
}

/**
 * Connects to PostgreSQL (waiting up to `BATON_DB_STARTUP_TIMEOUT_MS` while it is unreachable, e.g. still
 * starting) and applies pending migrations under the advisory lock, so several instances can start at once.
 */
export async function openStateStoreDatabase(
  config: StateStoreConfig,
  logger = new Logger('Database'),
): Promise<DataSource> {
  const deadline = Date.now() + config.BATON_DB_STARTUP_TIMEOUT_MS;
  let ds: DataSource;
  for (let attempt = 1; ; attempt++) {
    ds = createDataSource(config.DATABASE_URL, {
      ...STATE_STORE_PERSISTENCE,
      poolSize: config.BATON_DB_POOL_SIZE,
    });
    try {
      await ds.initialize();
      break;
    } catch (err) {
      if (classifyDatabaseError(err) !== DatabaseErrorKind.UNAVAILABLE || Date.now() >= deadline) {
        throw new BatonError(
          ErrorCode.UNAVAILABLE,
          `database ${redact(config.DATABASE_URL)}: ${messageOf(err)}`,
          {
            cause: err,
          },
        );
      }
      const delayMs = Math.min(2_000, 100 * 2 ** attempt);
      logger.warn(`database not reachable yet (${messageOf(err)}); retrying in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  try {
    const applied = await runMigrations(ds);
    if (applied.length > 0) logger.log(`migrations applied: ${applied.map((m) => m.name).join(', ')}`);
    return ds;
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw new BatonError(ErrorCode.UNAVAILABLE, `database migrations failed: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** `select 1` within {@link PROBE_TIMEOUT_MS}; throws UNAVAILABLE naming the cause. */
export async function probeDatabase(ds: DataSource): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ds.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)),
          PROBE_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    throw new BatonError(ErrorCode.UNAVAILABLE, messageOf(err), { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The state-store's storage: the DataSource (opened and migrated at start) and the history writer on it.
 * Registered as the `database` readiness check. At application shutdown (after the transport stopped
 * consuming) it writes what the writer still holds, then closes the pool.
 */
export class StateStoreStorage implements OnApplicationShutdown {
  private readonly logger = new Logger('StateStoreStorage');

  constructor(
    readonly dataSource: DataSource,
    readonly writer: HistoryWriter,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.writer.close();
    } catch (err) {
      this.logger.warn(`closing the history writer failed: ${messageOf(err)}`);
    }
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

export const storageProvider: FactoryProvider<Promise<StateStoreStorage>> = {
  provide: StateStoreStorage,
  inject: [BATON_CONFIG, ReadinessRegistry, StateStoreMetrics],
  useFactory: async (config: StateStoreConfig, readiness: ReadinessRegistry, metrics: StateStoreMetrics) => {
    const ds = await openStateStoreDatabase(config);
    const writer = new HistoryWriter(ds, {
      maxGroupSize: config.BATON_HISTORY_GROUP_SIZE,
      maxDelayMs: config.BATON_HISTORY_GROUP_DELAY_MS,
      maxConcurrentGroups: config.BATON_HISTORY_GROUP_CONCURRENCY,
      onGroup: (report) => metrics.group(report),
    });
    readiness.add('database', () => probeDatabase(ds));
    return new StateStoreStorage(ds, writer);
  },
};

export const historyWriterProvider: FactoryProvider<HistoryWriter> = {
  provide: HistoryWriter,
  inject: [StateStoreStorage],
  useFactory: (storage: StateStoreStorage) => storage.writer,
};

export const executionQueryRepositoryProvider: FactoryProvider<ExecutionQueryRepository> = {
  provide: ExecutionQueryRepository,
  inject: [StateStoreStorage],
  useFactory: (storage: StateStoreStorage) => new ExecutionQueryRepository(storage.dataSource),
};

export const deadLetterRepositoryProvider: FactoryProvider<DeadLetterRepository> = {
  provide: DeadLetterRepository,
  inject: [StateStoreStorage],
  useFactory: (storage: StateStoreStorage) => new DeadLetterRepository(storage.dataSource),
};
