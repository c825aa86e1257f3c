import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';

import { BatonError, ErrorCode } from '@baton/contracts';
import {
  type DataSource,
  DatabaseErrorKind,
  SCHEDULER_PERSISTENCE,
  TimerRepository,
  classifyDatabaseError,
  createDataSource,
  runMigrations,
} from '@baton/persistence';
import { BATON_CONFIG, ReadinessRegistry, redactUrlPassword } from '@baton/service-kit';

import type { SchedulerConfig } from '../config/scheduler.config';

const PROBE_TIMEOUT_MS = 2_000;

function messageOf(err: unknown): string {
  return redactUrlPassword(err instanceof Error ? err.message || String(err) : String(err));
}

/**
 * Connects to PostgreSQL (waiting up to `BATON_DB_STARTUP_TIMEOUT_MS` while it is unreachable) and applies
 * the scheduler's pending migrations under the shared advisory lock, so several instances can start at once.
 */
export async function openSchedulerDatabase(
  config: SchedulerConfig,
  logger = new Logger('Database'),
): Promise<DataSource> {
  const deadline = Date.now() + config.BATON_DB_STARTUP_TIMEOUT_MS;
  let ds: DataSource;
  for (let attempt = 1; ; attempt++) {
    ds = createDataSource(config.DATABASE_URL, {
      ...SCHEDULER_PERSISTENCE,
      poolSize: config.BATON_DB_POOL_SIZE,
    });
    try {
      await ds.initialize();
      break;
    } catch (err) {
      if (classifyDatabaseError(err) !== DatabaseErrorKind.UNAVAILABLE || Date.now() >= deadline) {
        throw new BatonError(
          ErrorCode.UNAVAILABLE,
          `database ${redactUrlPassword(config.DATABASE_URL)}: ${messageOf(err)}`,
          { cause: err },
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
async function probeDatabase(ds: DataSource): Promise<void> {
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
