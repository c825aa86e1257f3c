import { Logger } from '@nestjs/common';
import type { FactoryProvider, OnApplicationShutdown } from '@nestjs/common';

import {
  type DataSource,
  RULE_ENGINE_PERSISTENCE,
  RuleRepository,
  openDatabase,
  probeDatabase,
} from '@baton/persistence';
import { BATON_CONFIG, ReadinessRegistry } from '@baton/service-kit';

import type { RuleEngineConfig } from '../config/rule-engine.config';

/**
 * Connects to PostgreSQL (waiting up to `BATON_DB_STARTUP_TIMEOUT_MS` while it is unreachable) and applies
 * pending migrations under the advisory lock, so several instances can start at once.
 */
export function openRuleEngineDatabase(
  config: Pick<RuleEngineConfig, 'DATABASE_URL' | 'BATON_DB_POOL_SIZE' | 'BATON_DB_STARTUP_TIMEOUT_MS'>,
  logger = new Logger('Database'),
): Promise<DataSource> {
  return openDatabase(config.DATABASE_URL, RULE_ENGINE_PERSISTENCE, {
    poolSize: config.BATON_DB_POOL_SIZE,
    startupTimeoutMs: config.BATON_DB_STARTUP_TIMEOUT_MS,
    logger,
  });
}

/** The rule-engine's DataSource (opened and migrated at start; readiness check `database`), closed at shutdown. */
export class RuleEngineStorage implements OnApplicationShutdown {
  constructor(readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

export const storageProvider: FactoryProvider<Promise<RuleEngineStorage>> = {
  provide: RuleEngineStorage,
  inject: [BATON_CONFIG, ReadinessRegistry],
  useFactory: async (config: RuleEngineConfig, readiness: ReadinessRegistry) => {
    const ds = await openRuleEngineDatabase(config);
    readiness.add('database', () => probeDatabase(ds));
    return new RuleEngineStorage(ds);
  },
};

export const ruleRepositoryProvider: FactoryProvider<RuleRepository> = {
  provide: RuleRepository,
  inject: [RuleEngineStorage],
  useFactory: (storage: RuleEngineStorage) => new RuleRepository(storage.dataSource),
};
