import { Module } from '@nestjs/common';

import { RuleRepository } from '@baton/persistence';
import { BATON_CONFIG, MetricsService } from '@baton/service-kit';

import type { RuleEngineConfig } from './config/rule-engine.config';
import { ruleRepositoryProvider, storageProvider } from './database/database.providers';
import { DecisionsHandler } from './decisions/decisions.handler';
import { RuleEngineMetrics } from './rule-engine.metrics';
import { RuleChangeListener, RuleChangePublisher } from './rules/rule-changes';
import { RuleSetCache } from './rules/rule-set';
import { RulesController } from './rules/rules.controller';
import { RulesEndpoints } from './rules/rules.endpoints';
import { RulesService } from './rules/rules.service';

/** The rule-engine: rules in PostgreSQL, decisions over HTTP and NATS, compiled rule sets per category. */
@Module({
  controllers: [RulesController, DecisionsHandler],
  providers: [
    storageProvider,
    ruleRepositoryProvider,
    {
      provide: RuleEngineMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new RuleEngineMetrics(metrics),
    },
    {
      provide: RuleSetCache,
      inject: [RuleRepository, BATON_CONFIG, RuleEngineMetrics],
      useFactory: (repository: RuleRepository, config: RuleEngineConfig, metrics: RuleEngineMetrics) =>
        new RuleSetCache(async (category) => {
          const rules = (await repository.list({ category })).filter((r) => r.enabled);
          metrics.compiled();
          return rules;
        }, config.BATON_RULES_CACHE_TTL_MS),
    },
    RuleChangePublisher,
    RuleChangeListener,
    RulesService,
    RulesEndpoints,
  ],
})
export class RuleEngineModule {}
