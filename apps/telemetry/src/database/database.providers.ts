import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';

import {
  AnalyticsRepository,
  AnalyticsWriter,
  type DataSource,
  TELEMETRY_PERSISTENCE,
  openDatabase,
  probeDatabase,
} from '@baton/persistence';
import { BATON_CONFIG, ReadinessRegistry, redactUrlPassword } from '@baton/service-kit';

import type { TelemetryConfig } from '../config/telemetry.config';
import { TelemetryMetrics } from '../telemetry.metrics';

/** Minute rows and dedupe records older than this are deleted: longer than the longest window (24 h). */
export const ANALYTICS_RETENTION_MS = 26 * 60 * 60 * 1000;
/** How often old analytics rows are deleted. */
export const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

function messageOf(err: unknown): string {
  return redactUrlPassword(err instanceof Error ? err.message || String(err) : String(err));
}

/**
 * Connects to PostgreSQL (waiting up to `BATON_DB_STARTUP_TIMEOUT_MS` while it is unreachable) and applies
 * pending migrations under the advisory lock, so several instances can start at once.
 */
export function openTelemetryDatabase(
  config: TelemetryConfig,
  logger = new Logger('Database'),
): Promise<DataSource> {
  return openDatabase(config.DATABASE_URL, TELEMETRY_PERSISTENCE, {
    poolSize: config.BATON_DB_POOL_SIZE,
    startupTimeoutMs: config.BATON_DB_STARTUP_TIMEOUT_MS,
    logger,
  });
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
      maxConcurrentGroups: config.BATON_ANALYTICS_GROUP_CONCURRENCY,
      onGroup: (report) => metrics.group(report),
    });
    readiness.add('database', () => probeDatabase(ds));
    return new TelemetryStorage(ds, writer);
  },
};
