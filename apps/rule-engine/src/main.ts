// First: tracing must be set up before any instrumented module loads.
import './instrumentation';

import { runService } from '@baton/service-kit';
import { BATON_STREAMS } from '@baton/transport-jetstream';

import { ruleEngineEnvSchema } from './config/rule-engine.config';
import { telemetry } from './instrumentation';
import { RuleEngineModule } from './rule-engine.module';
import { RULE_ENGINE_SERVICE } from './service.descriptor';

void runService({
  service: RULE_ENGINE_SERVICE,
  module: RuleEngineModule,
  envSchema: ruleEngineEnvSchema,
  // Rule changes are announced on baton.events.rules.<category>.changed; decision requests arrive on
  // baton.decisions.<category> and their results go to the orchestrator's inbox.
  streams: [BATON_STREAMS.NOTIFY, BATON_STREAMS.DECISIONS, BATON_STREAMS.ORCH, BATON_STREAMS.DLQ],
  transport: true,
  telemetry,
});
