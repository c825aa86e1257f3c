import type { ServiceDescriptor } from '@baton/service-kit';

/**
 * Who this service is (CONTRACT §1: port 8083). Plain data on purpose: `instrumentation.ts` imports it
 * before anything else is loaded.
 */
export const RULE_ENGINE_SERVICE: ServiceDescriptor = {
  name: 'rule-engine',
  version: '0.1.0',
  defaultPort: 8083,
  description: 'Evaluates business rules: decision outcomes for workflow steps',
};
