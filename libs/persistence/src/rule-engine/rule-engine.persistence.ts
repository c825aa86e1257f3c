import type { PersistenceScope } from '../persistence-scope';
import { RuleVersionEntity } from './entities/rule-version.entity';
import { RuleEntity } from './entities/rule.entity';
import { CreateRuleEngineTables1795400000000 } from './migrations/1795400000000-create-rule-engine-tables';
import { RuleVersionsCategoryIndex1797100000000 } from './migrations/1797100000000-rule-versions-category-index';

/** Entities and migrations of the rule-engine (tables `rules`, `rule_versions`). */
export const RULE_ENGINE_PERSISTENCE: PersistenceScope = {
  name: 'rule-engine',
  entities: [RuleEntity, RuleVersionEntity],
  migrations: [CreateRuleEngineTables1795400000000, RuleVersionsCategoryIndex1797100000000],
  migrationsTableName: 'baton_migrations_rule_engine',
};
