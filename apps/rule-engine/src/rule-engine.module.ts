import { Module } from '@nestjs/common';

import { postgresReadinessProvider } from '@baton/service-kit';

/** The rule-engine's own providers; the common surface comes from service-kit's core module. */
@Module({ providers: [postgresReadinessProvider('database')] })
export class RuleEngineModule {}
