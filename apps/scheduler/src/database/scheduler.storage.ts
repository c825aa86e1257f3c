import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';

import {
  type DataSource,
  SCHEDULER_PERSISTENCE,
  ScheduleRepository,
  TimerRepository,
  openDatabase,
  probeDatabase,
} from '@baton/persistence';
import { BATON_CONFIG, ReadinessRegistry } from '@baton/service-kit';

import type { SchedulerConfig } from '../config/scheduler.config';

/**
 * Connects to PostgreSQL (waiting up to `BATON_DB_STARTUP_TIMEOUT_MS` while it is unreachable) and applies
 * pending migrations under the advisory lock, so several instances can start at once.
 */
export function openSchedulerDatabase(
  config: SchedulerConfig,
  logger = new Logger('Database'),
): Promise<DataSource> {
  return openDatabase(config.DATABASE_URL, SCHEDULER_PERSISTENCE, {
    poolSize: config.BATON_DB_POOL_SIZE,
    startupTimeoutMs: config.BATON_DB_STARTUP_TIMEOUT_MS,
    logger,
  });
}

/** The scheduler's DataSource (opened and migrated at start; the `database` readiness check); closed last. */
export class SchedulerStorage implements OnApplicationShutdown {
  constructor(readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

export const storageProvider: FactoryProvider<Promise<SchedulerStorage>> = {
  provide: SchedulerStorage,
  inject: [BATON_CONFIG, ReadinessRegistry],
  useFactory: async (config: SchedulerConfig, readiness: ReadinessRegistry) => {
    const ds = await openSchedulerDatabase(config);
    readiness.add('database', () => probeDatabase(ds));
    return new SchedulerStorage(ds);
  },
};

export const timerRepositoryProvider: FactoryProvider<TimerRepository> = {
  provide: TimerRepository,
  inject: [SchedulerStorage],
  useFactory: (storage: SchedulerStorage) => new TimerRepository(storage.dataSource),
};

export const scheduleRepositoryProvider: FactoryProvider<ScheduleRepository> = {
  provide: ScheduleRepository,
  inject: [SchedulerStorage],
  useFactory: (storage: SchedulerStorage) => new ScheduleRepository(storage.dataSource),
};
