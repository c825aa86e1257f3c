import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';

import { BatonError, ErrorCode } from '@baton/contracts';
import {
  AnalyticsRepository,
  AnalyticsWriter,
  type DataSource,
  DatabaseErrorKind,
  TELEMETRY_PERSISTENCE,
  classifyDatabaseError,
  createDataSource,
  runMigrations,
} from '@baton/persistence';
import { BATON_CONFIG, ReadinessRegistry, redactUrlPassword } from '@baton/service-kit';

import type { TelemetryConfig } from '../config/telemetry.config';
import { TelemetryMetrics } from '../telemetry.metrics';

const PROBE_TIMEOUT_MS = 2_000;
/** Minute rows and dedupe records older than this are deleted: longer than the longest window (24 h). */
export const ANALYTICS_RETENTION_MS = 26 * 60 * 60 * 1000;
/** How often old analytics rows are deleted. */
export const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

function messageOf(err: unknown): string {
  return redactUrlPassword(err instanceof Error ? err.message || String(err) : String(err));
}

/**
 * Connects to PostgreSQL (waiting up to `BATON_DB_STARTUP_TIMEOUT_MS` while it is unreachable) and applies
 * the telemetry migrations under the shared advisory lock.
 */
export async function openTelemetryDatabase(
  config: TelemetryConfig,
  logger = new Logger('Database'),
): Promise<DataSource> {
  const deadline = Date.now() + config.BATON_DB_STARTUP_TIMEOUT_MS;
  let ds: DataSource;
  for (let attempt = 1; ; attempt++) {
    ds = createDataSource(config.DATABASE_URL, {
      ...TELEMETRY_PERSISTENCE,
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
 * The telemetry storage: the DataSource, the analytics writer and repository on it, and the periodic
 * deletion of rows older than {@link ANALYTICS_RETENTION_MS}. At shutdown (after consuming stopped) it
 * applies what the writer still holds, then closes the pool.
 */
export class TelemetryStorage implements OnApplicationShutdown {
  private readonly logger = new Logger('TelemetryStorage');
  readonly repository: AnalyticsRepository;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    readonly dataSource: DataSource,
    readonly writer: AnalyticsWriter,
  ) {
    this.repository = new AnalyticsRepository(dataSource);
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  /** Deletes analytics rows older than the retention; failures are logged and retried next time. */
  async prune(now = Date.now()): Promise<void> {
    try {
      const deleted = await this.repository.prune(new Date(now - ANALYTICS_RETENTION_MS));
      if (deleted.minutes + deleted.batches > 0) this.logger.log({ deleted }, 'old analytics rows deleted');
    } catch (err) {
      this.logger.warn(`deleting old analytics rows failed: ${messageOf(err)}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    try {
      await this.writer.close();
    } catch (err) {
      this.logger.warn(`closing the analytics writer failed: ${messageOf(err)}`);
    }
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

export const storageProvider: FactoryProvider<Promise<TelemetryStorage>> = {
  provide: TelemetryStorage,
  inject: [BATON_CONFIG, ReadinessRegistry, TelemetryMetrics],
  useFactory: async (config: TelemetryConfig, readiness: ReadinessRegistry, metrics: TelemetryMetrics) => {
    const ds = await openTelemetryDatabase(config);
    const writer = new AnalyticsWriter(ds, {
      maxGroupSize: config.BATON_ANALYTICS_GROUP_SIZE,
      maxDelayMs: config.BATON_ANALYTICS_GROUP_DELAY_MS,
      onGroup: (report) => metrics.group(report),
    });
    readiness.add('database', () => probeDatabase(ds));
    return new TelemetryStorage(ds, writer);
  },
};
