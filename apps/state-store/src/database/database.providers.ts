import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';

import {
  type DataSource,
  DeadLetterRepository,
  ExecutionQueryRepository,
  HistoryWriter,
  STATE_STORE_PERSISTENCE,
  openDatabase,
  probeDatabase,
  redactDatabaseUrl,
} from '@baton/persistence';
import { BATON_CONFIG, ReadinessRegistry } from '@baton/service-kit';

import type { StateStoreConfig } from '../config/state-store.config';
import { StateStoreMetrics } from '../state-store.metrics';

function messageOf(err: unknown): string {
  return redactDatabaseUrl(err instanceof Error ? err.message || String(err) : String(err));
}

/**
 * Connects to PostgreSQL (waiting up to `BATON_DB_STARTUP_TIMEOUT_MS` while it is unreachable) and applies
 * pending migrations under the advisory lock, so several instances can start at once.
 */
export function openStateStoreDatabase(
  config: StateStoreConfig,
  logger = new Logger('Database'),
): Promise<DataSource> {
  return openDatabase(config.DATABASE_URL, STATE_STORE_PERSISTENCE, {
    poolSize: config.BATON_DB_POOL_SIZE,
    startupTimeoutMs: config.BATON_DB_STARTUP_TIMEOUT_MS,
    logger,
  });
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
