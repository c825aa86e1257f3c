// First: tracing must be set up before any instrumented module loads.
import './instrumentation';

import { databaseServiceEnvSchema, runService } from '@baton/service-kit';

import { telemetry } from './instrumentation';
import { RuleEngineModule } from './rule-engine.module';
import { RULE_ENGINE_SERVICE } from './service.descriptor';

void runService({
  service: RULE_ENGINE_SERVICE,
  module: RuleEngineModule,
  envSchema: databaseServiceEnvSchema,
  telemetry,
});
