import { Module } from '@nestjs/common';

import { RuleRepository } from '@baton/persistence';
import { BATON_CONFIG, MetricsService } from '@baton/service-kit';

import type { RuleEngineConfig } from './config/rule-engine.config';
import { ruleRepositoryProvider, storageProvider } from './database/database.providers';
import { DecisionsHandler } from './decisions/decisions.handler';
import { RuleEngineMetrics } from './rule-engine.metrics';
import { RuleChangeListener, RuleChangePublisher } from './rules/rule-changes';
import { PinnedRuleSets, RuleSetCache } from './rules/rule-set';
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
          // Rules first: a change committed between the two reads then makes the set look newer than
          // it is, which sends pinned evaluations to the history (correct), never the other way round.
          const rules = await repository.list({ category });
          const changedAt = await repository.categoryChangedAt(category);
          metrics.compiled();
          return { rules: rules.filter((r) => r.enabled), changedAt };
        }, config.BATON_RULES_CACHE_TTL_MS),
    },
    {
      provide: PinnedRuleSets,
      inject: [RuleRepository, RuleEngineMetrics],
      useFactory: (repository: RuleRepository, metrics: RuleEngineMetrics) =>
        new PinnedRuleSets(async (category, asOf) => {
          const rules = await repository.categoryAsOf(category, asOf);
          metrics.compiled();
          return rules;
        }),
    },
    RuleChangePublisher,
    RuleChangeListener,
    RulesService,
    RulesEndpoints,
  ],
})
export class RuleEngineModule {}
